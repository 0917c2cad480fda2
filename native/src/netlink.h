#ifndef SLICENET_NETLINK_H
#define SLICENET_NETLINK_H
#include <stdbool.h>
#define NAPI_VERSION 8
#include <node_api.h>
bool sn_netlink_init(napi_env env, napi_value exports);
/* netlinkOpen and netnsWriteFile (netns.c); sn_netlink_init defines them too. */
bool sn_netns_init(napi_env env, napi_value exports);
#endif
