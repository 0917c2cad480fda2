#ifndef SLICENET_GSO_H
#define SLICENET_GSO_H
#include <stdbool.h>
#define NAPI_VERSION 8
#include <node_api.h>
bool sn_gso_init(napi_env env, napi_value exports);
#endif
