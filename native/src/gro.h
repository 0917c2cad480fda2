#ifndef SLICENET_GRO_H
#define SLICENET_GRO_H
#include <stdbool.h>
#define NAPI_VERSION 8
#include <node_api.h>
bool sn_gro_init(napi_env env, napi_value exports);
#endif
