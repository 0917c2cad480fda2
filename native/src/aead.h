#ifndef SLICENET_AEAD_H
#define SLICENET_AEAD_H
#include <stdbool.h>
#define NAPI_VERSION 8
#include <node_api.h>
bool sn_aead_init(napi_env env, napi_value exports);
#endif
