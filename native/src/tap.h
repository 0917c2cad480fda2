#ifndef SLICENET_TAP_H
#define SLICENET_TAP_H
#include <stdbool.h>
#define NAPI_VERSION 8
#include <node_api.h>
bool sn_tap_init(napi_env env, napi_value exports);
#endif
