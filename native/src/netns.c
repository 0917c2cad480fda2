/*
 * Netlink sockets and /proc/sys/net writes in another network namespace, for the node agent
 * (a pod's, from its CNI_NETNS path), without the calling thread ever changing namespace:
 *
 *   netlinkOpen(nsPath, protocol)
 *                         a helper thread: open(nsPath) → setns(CLONE_NEWNET) → socket → exit;
 *                         the socket stays in that namespace, the calling thread never moves
 *   netnsWriteFile(nsPath, path, text)
 *                         a helper thread in that namespace opens and writes `path` (a
 *                         /proc/sys/net file is the namespace of the thread that opens it)
 *
 * The helper thread is joined before the call returns (microseconds). Sockets get extended acks
 * and a 5 s receive bound; netlink.c runs requests on them. Errors: an errno Error naming the
 * step and the namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common.h"
#include "netlink.h"

#define NL_PATH_MAX 4096

typedef struct {
  const char *ns_path; /* "" = the calling thread's namespace */
  int protocol;        /* NETLINK_ROUTE or NETLINK_NETFILTER */
  const char *file;    /* NULL: open a socket; else write `text` to this file */
  const char *text;
  int fd;  /* out: the socket */
  int err; /* out: errno of the step that failed */
  const char *step;
} ns_job;

static int open_socket(int protocol) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) return -1;
  int one = 1;
  struct timeval tv = {.tv_sec = 5};
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one) < 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
      bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* Runs in its own thread: setns moves only this thread, which then ends. */
static void *ns_run(void *arg) {
  ns_job *j = arg;
  if (j->ns_path[0]) {
    int ns = open(j->ns_path, O_RDONLY | O_CLOEXEC);
    if (ns < 0) {
      j->err = errno, j->step = "open the namespace";
      return NULL;
    }
    int r = setns(ns, CLONE_NEWNET);
    int e = errno;
    close(ns);
    if (r < 0) {
      j->err = e, j->step = "setns";
      return NULL;
    }
  }
  if (!j->file) {
    j->fd = open_socket(j->protocol);
    if (j->fd < 0) j->err = errno, j->step = "netlink socket";
    return NULL;
  }
  int fd = open(j->file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    j->err = errno, j->step = "open";
    return NULL;
  }
  size_t n = strlen(j->text);
  if (write(fd, j->text, n) != (ssize_t)n) {
    j->err = errno ? errno : EIO;
    j->step = "write";
  }
  close(fd);
  return NULL;
}

static bool run_in_ns(napi_env env, ns_job *j) {
  pthread_t t;
  int e = pthread_create(&t, NULL, ns_run, j);
  if (e) {
    sn_throw_errno(env, "pthread_create", e);
    return false;
  }
  pthread_join(t, NULL);
  if (!j->err) return true;
  char what[NL_PATH_MAX + 64];
  snprintf(what, sizeof what, "%s (%s%s%s)", j->step, j->ns_path[0] ? j->ns_path : "this namespace",
           j->file ? ", " : "", j->file ? j->file : "");
  sn_throw_errno(env, what, j->err);
  return false;
}

/* netlinkOpen(nsPath, protocol) -> fd */
static napi_value nl_open(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[NL_PATH_MAX];
  uint32_t protocol;
  SN_TRY(sn_args(env, info, 2, argv, NULL));
  SN_TRY(sn_string(env, argv[0], "nsPath", path, sizeof path));
  SN_TRY(sn_u32(env, argv[1], "protocol", &protocol));
  if (protocol != NETLINK_ROUTE && protocol != NETLINK_NETFILTER)
    return sn_throw_range(env, "protocol must be NETLINK_ROUTE (0) or NETLINK_NETFILTER (12), not %u", protocol);
  ns_job j = {.ns_path = path, .protocol = (int)protocol, .fd = -1};
  SN_TRY(run_in_ns(env, &j));
  napi_value out;
  if (napi_create_int32(env, j.fd, &out) != napi_ok) {
    close(j.fd);
    sn_throw_last(env);
    return NULL;
  }
  return out;
}

/* netnsWriteFile(nsPath, path, text) */
static napi_value nl_write_file(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char ns[NL_PATH_MAX], file[NL_PATH_MAX], text[256];
  SN_TRY(sn_args(env, info, 3, argv, NULL));
  SN_TRY(sn_string(env, argv[0], "nsPath", ns, sizeof ns));
  SN_TRY(sn_string(env, argv[1], "path", file, sizeof file));
  SN_TRY(sn_string(env, argv[2], "text", text, sizeof text));
  if (!file[0]) return sn_throw_range(env, "path must not be empty");
  ns_job j = {.ns_path = ns, .file = file, .text = text};
  SN_TRY(run_in_ns(env, &j));
  return NULL;
}

bool sn_netns_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"netlinkOpen", NULL, nl_open, NULL, NULL, NULL, napi_default, NULL},
      {"netnsWriteFile", NULL, nl_write_file, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
