#ifndef SLICENET_READER_H
#define SLICENET_READER_H
#include <stdbool.h>
#define NAPI_VERSION 8
#include <node_api.h>
bool sn_reader_init(napi_env env, napi_value exports);
#endif
