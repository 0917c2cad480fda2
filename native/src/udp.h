#ifndef SLICENET_UDP_H
#define SLICENET_UDP_H
#include <stdbool.h>
#define NAPI_VERSION 8
#include <node_api.h>
bool sn_udp_init(napi_env env, napi_value exports);
#endif
