/*
 * Netlink for the node agent: the kernel calls behind `ip link add … netns`, `ip addr add`,
 * `ip link del` and `nft add element`, without starting a process. The messages themselves are
 * built and parsed in TypeScript (lib/net/rtnetlink.ts, lib/net/nftnetlink.ts); this file only
 * does what Node cannot: run one request (or one nfnetlink batch) to its answer on a netlink
 * socket (netns.c opens them, in another network namespace if asked).
 *
 *   netlinkCall(fd, req)  send → recv until the last message's ack, an error or NLMSG_DONE
 *                         → the data messages
 *   netlinkCallAsync(fd, req)
 *                         the same on a libuv worker → a Promise (for link deletion)
 *
 * Blocking: rtnetlink and nfnetlink answer within the send, so most calls return in
 * microseconds; deleting a link waits for the kernel's RCU grace period inside the send, 10-30
 * ms on this machine, which netlinkCallAsync keeps off the loop. SO_RCVTIMEO bounds every call
 * at 5 s. Errors: an errno Error (`code` = its name) whose message adds
 * the kernel's extended ack text when it gives one (e.g. "Invalid MAC address").
 */
#include "netlink.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"

#define NL_RECV_BYTES 65536

/* The kernel's extended ack text after an nlmsgerr, if any (NETLINK_CAP_ACK: no payload copy). */
static const char *extack_msg(struct nlmsghdr *h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return NULL;
  size_t at = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nlmsgerr));
  while (at + sizeof(struct nlattr) <= h->nlmsg_len) {
    struct nlattr *a = (struct nlattr *)((uint8_t *)h + at);
    if (a->nla_len < sizeof *a || at + a->nla_len > h->nlmsg_len) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && a->nla_len > sizeof *a) {
      char *s = (char *)a + NLA_HDRLEN;
      s[a->nla_len - NLA_HDRLEN - 1] = '\0';
      return s;
    }
    at += NLA_ALIGN(a->nla_len);
  }
  return NULL;
}

/* What one exchange came to: the answer's data messages back to back, or an error. */
typedef struct {
  int err;          /* 0, or the errno of what failed */
  const char *what; /* the failed step, when the error is not the kernel's answer */
  char ext[256];    /* the kernel's extended ack text, if it gave one */
  uint8_t *msgs;    /* data messages, each whole, at NLMSG_ALIGN boundaries */
  size_t len, cap;
} nl_answer;

static bool keep(nl_answer *a, const struct nlmsghdr *h) {
  size_t need = a->len + NLMSG_ALIGN(h->nlmsg_len);
  if (need > a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 4096;
    while (cap < need) cap *= 2;
    uint8_t *m = realloc(a->msgs, cap);
    if (!m) return false;
    a->msgs = m, a->cap = cap;
  }
  memcpy(a->msgs + a->len, h, h->nlmsg_len);
  a->len = need;
  return true;
}

/*
 * Sends `req` (messages with sequence numbers first_seq..seq) and reads until the ack or
 * NLMSG_DONE of `seq`, or the first error the kernel reports. Touches no JavaScript, so it
 * runs on the loop thread (netlinkCall) or a libuv worker (netlinkCallAsync).
 */
static void exchange(int fd, const uint8_t *req, size_t bytes, uint32_t first_seq, uint32_t seq, nl_answer *a) {
  ssize_t sent;
  do sent = send(fd, req, bytes, 0);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    a->err = errno, a->what = "netlink send";
    return;
  }
  uint8_t *buf = malloc(NL_RECV_BYTES);
  if (!buf) {
    a->err = ENOMEM, a->what = "netlink";
    return;
  }
  for (;;) {
    ssize_t got = recv(fd, buf, NL_RECV_BYTES, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      a->err = errno, a->what = errno == EAGAIN ? "netlink: no answer within 5 s" : "netlink recv";
      break;
    }
    int len = (int)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      /* Another call's answer (one that failed at an earlier message's error) is skipped. */
      if (h->nlmsg_seq - first_seq > seq - first_seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) {
        if (h->nlmsg_seq == seq) goto done;
        continue;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e)) {
          a->err = EPROTO;
          snprintf(a->ext, sizeof a->ext, "a truncated error message");
          goto done;
        }
        if (e->error == 0) {
          if (h->nlmsg_seq == seq) goto done;
          continue;
        }
        a->err = -e->error;
        const char *ext = extack_msg(h);
        if (ext) snprintf(a->ext, sizeof a->ext, "%s", ext);
        goto done;
      }
      if (!keep(a, h)) {
        a->err = ENOMEM, a->what = "netlink";
        goto done;
      }
    }
  }
done:
  free(buf);
}

/* The answer as JavaScript sees it: an array of Buffers, or (a->err set) the errno Error. NULL if
 * making it failed. */
static napi_value answer_js(napi_env env, const nl_answer *a) {
  if (a->err) {
    char what[320];
    if (a->what)
      snprintf(what, sizeof what, "%s", a->what);
    else
      snprintf(what, sizeof what, "netlink%s%s", a->ext[0] ? ": " : "", a->ext);
    return sn_errno_error(env, what, a->err);
  }
  napi_value out, b;
  void *copy;
  if (napi_create_array(env, &out) != napi_ok) return NULL;
  uint32_t count = 0;
  for (size_t at = 0; at < a->len;) {
    const struct nlmsghdr *h = (const struct nlmsghdr *)(a->msgs + at);
    if (napi_create_buffer_copy(env, h->nlmsg_len, h, &copy, &b) != napi_ok ||
        napi_set_element(env, out, count++, b) != napi_ok)
      return NULL;
    at += NLMSG_ALIGN(h->nlmsg_len);
  }
  return out;
}

/* Checks `request` (argv[1]) and finds the sequence numbers it spans; false with an exception pending. */
static bool parse_request(napi_env env, napi_value *argv, int *fd, sn_view *req, uint32_t *first_seq,
                          uint32_t *seq) {
  if (!sn_fd(env, argv[0], fd) || !sn_bytes(env, argv[1], "request", req)) return false;
  struct nlmsghdr *last = NULL;
  for (size_t at = 0; at < req->bytes;) {
    struct nlmsghdr *h = (struct nlmsghdr *)(req->data + at);
    if (req->bytes - at < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > req->bytes - at) {
      sn_throw_range(env, "request: the message at byte %zu claims %u bytes of the %zu left", at,
                     req->bytes - at >= NLMSG_HDRLEN ? h->nlmsg_len : 0, req->bytes - at);
      return false;
    }
    if (!last) *first_seq = h->nlmsg_seq;
    last = h;
    at += NLMSG_ALIGN(h->nlmsg_len);
  }
  if (!last) {
    sn_throw_range(env, "request: empty");
    return false;
  }
  *seq = last->nlmsg_seq;
  bool dump = (last->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (!dump && !(last->nlmsg_flags & NLM_F_ACK)) {
    sn_throw_range(env, "request: set NLM_F_ACK or NLM_F_DUMP on the last message");
    return false;
  }
  return true;
}

/*
 * netlinkCall(fd, request) -> Buffer[]: the data messages of the answer, each whole. `request`
 * holds one message or several (an nfnetlink batch) with ascending sequence numbers; the call
 * ends at the ack or NLMSG_DONE of the last, which must ask for one (NLM_F_ACK, or a dump), and
 * throws at the first error the kernel reports for any of them.
 */
static napi_value nl_call(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  sn_view req;
  uint32_t first_seq = 0, seq = 0;
  SN_TRY(sn_args(env, info, 2, argv, NULL));
  SN_TRY(parse_request(env, argv, &fd, &req, &first_seq, &seq));
  nl_answer a = {0};
  exchange(fd, req.data, req.bytes, first_seq, seq, &a);
  napi_value out = answer_js(env, &a);
  free(a.msgs);
  if (!out) sn_throw_last(env);
  else if (a.err) napi_throw(env, out);
  return a.err ? NULL : out;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int fd;
  uint8_t *req; /* a copy: the caller's buffer may change while a worker sends it */
  size_t bytes;
  uint32_t first_seq, seq;
  nl_answer answer;
} nl_job;

static void job_execute(napi_env env, void *data) {
  (void)env;
  nl_job *j = data;
  exchange(j->fd, j->req, j->bytes, j->first_seq, j->seq, &j->answer);
}

static void job_complete(napi_env env, napi_status status, void *data) {
  nl_job *j = data;
  napi_value v = status == napi_ok ? answer_js(env, &j->answer) : NULL;
  bool failed = !v || j->answer.err;
  /* No answer to give (cancelled, or out of memory making it): an Error all the same. */
  if (!v) v = sn_errno_error(env, "netlink", status == napi_cancelled ? ECANCELED : ENOMEM);
  if (v) (failed ? napi_reject_deferred : napi_resolve_deferred)(env, j->deferred, v);
  napi_delete_async_work(env, j->work);
  free(j->answer.msgs);
  free(j->req);
  free(j);
}

/*
 * netlinkCallAsync(fd, request) -> Promise<Buffer[]>: netlinkCall on a libuv worker, for
 * requests the kernel takes long over (deleting a link waits for an RCU grace period, 10-30 ms
 * here) without holding the loop. The caller owns the socket's turn-taking: one call in flight
 * per socket, and no netlinkCall on it meanwhile (native/netlink.ts does both).
 */
static napi_value nl_call_async(napi_env env, napi_callback_info info) {
  napi_value argv[2], promise, name;
  nl_job *j = calloc(1, sizeof *j);
  if (!j) return sn_throw_errno(env, "netlink", ENOMEM);
  sn_view req;
  if (!sn_args(env, info, 2, argv, NULL) || !parse_request(env, argv, &j->fd, &req, &j->first_seq, &j->seq)) {
    free(j);
    return NULL;
  }
  j->req = malloc(req.bytes);
  if (!j->req) {
    free(j);
    return sn_throw_errno(env, "netlink", ENOMEM);
  }
  memcpy(j->req, req.data, req.bytes);
  j->bytes = req.bytes;
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "slicenet:netlink", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, job_execute, job_complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    /* A promise made but never settled is only garbage; the job was never queued. */
    free(j->req);
    free(j);
    sn_throw_last(env);
    return NULL;
  }
  return promise;
}

bool sn_netlink_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"netlinkCall", NULL, nl_call, NULL, NULL, NULL, napi_default, NULL},
      {"netlinkCallAsync", NULL, nl_call_async, NULL, NULL, NULL, napi_default, NULL},
  };
  return sn_netns_init(env, exports) &&
         napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
