// Raw netlink helpers shared by the C reference programs (libc only, no
// libmnl). Sockets are set up like netweave's engine (native/engine.cc):
// NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_GET_STRICT_CHK, forced buffers.
// Every failure is fatal: a reference that silently failed would measure
// nothing, so the program prints the kernel's extended-ack text and exits 1.
#ifndef NWB_NL_H
#define NWB_NL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static const char *prog_name = "bench";

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog_name);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double us_since(uint64_t t0) { return (double)(now_ns() - t0) / 1000.0; }

static inline void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// ---- samples (µs) ---------------------------------------------------------

typedef struct {
  double *v;
  size_t n, cap;
} samples_t;

static inline void samples_add(samples_t *s, double us) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 1024;
    s->v = realloc(s->v, s->cap * sizeof(double));
    if (!s->v) die("out of memory");
  }
  s->v[s->n++] = us;
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static inline double samples_quantile(const samples_t *s, double q) {
  if (s->n == 0) return 0;
  double *c = malloc(s->n * sizeof(double));
  if (!c) die("out of memory");
  memcpy(c, s->v, s->n * sizeof(double));
  qsort(c, s->n, sizeof(double), cmp_double);
  double pos = q * (double)(s->n - 1);
  size_t lo = (size_t)pos;
  double r = lo + 1 < s->n ? c[lo] + (c[lo + 1] - c[lo]) * (pos - (double)lo) : c[lo];
  free(c);
  return r;
}

static inline double samples_mean(const samples_t *s) {
  double sum = 0;
  for (size_t i = 0; i < s->n; i++) sum += s->v[i];
  return s->n ? sum / (double)s->n : 0;
}

// "key":{"n":…,"median_us":…,"mean_us":…,"p90_us":…,"min_us":…,"max_us":…}
static inline void json_samples(FILE *f, const char *key, const samples_t *s) {
  fprintf(f, "\"%s\":{\"n\":%zu,\"median_us\":%.3f,\"mean_us\":%.3f,\"p90_us\":%.3f,\"min_us\":%.3f,\"max_us\":%.3f}", key,
          s->n, samples_quantile(s, 0.5), samples_mean(s), samples_quantile(s, 0.9), samples_quantile(s, 0),
          samples_quantile(s, 1));
}

// ---- message building -----------------------------------------------------

typedef struct {
  uint8_t *b;
  size_t len, cap;
} buf_t;

static uint32_t nl_seq = 1;

static inline void buf_reserve(buf_t *m, size_t n) {
  if (m->len + n <= m->cap) return;
  size_t cap = m->cap ? m->cap : 4096;
  while (cap < m->len + n) cap *= 2;
  m->b = realloc(m->b, cap);
  if (!m->b) die("out of memory");
  m->cap = cap;
}

static inline void buf_reset(buf_t *m) { m->len = 0; }

// Zeroed, 4-byte aligned room for len bytes; returns a pointer to it.
static inline void *buf_put(buf_t *m, size_t len) {
  size_t a = NLMSG_ALIGN(len);
  buf_reserve(m, a);
  void *p = m->b + m->len;
  memset(p, 0, a);
  m->len += a;
  return p;
}

// Starts a message; returns its offset for msg_end().
static inline size_t msg_begin(buf_t *m, uint16_t type, uint16_t flags) {
  size_t at = m->len;
  struct nlmsghdr *h = buf_put(m, NLMSG_HDRLEN);
  h->nlmsg_type = type;
  h->nlmsg_flags = flags;
  h->nlmsg_seq = nl_seq++;
  return at;
}

static inline void msg_end(buf_t *m, size_t at) { ((struct nlmsghdr *)(m->b + at))->nlmsg_len = (uint32_t)(m->len - at); }

// A fixed header struct right after nlmsghdr (ifinfomsg, ifaddrmsg, rtmsg…).
#define msg_struct(m, type) ((type *)buf_put((m), sizeof(type)))

static inline void attr_put(buf_t *m, uint16_t type, const void *data, size_t len) {
  struct nlattr *a = buf_put(m, NLA_HDRLEN + len);
  a->nla_type = type;
  a->nla_len = (uint16_t)(NLA_HDRLEN + len);
  if (len) memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
}

static inline void attr_u32(buf_t *m, uint16_t type, uint32_t v) { attr_put(m, type, &v, 4); }
static inline void attr_str(buf_t *m, uint16_t type, const char *s) { attr_put(m, type, s, strlen(s) + 1); }

static inline size_t nest_begin(buf_t *m, uint16_t type) {
  size_t at = m->len;
  struct nlattr *a = buf_put(m, NLA_HDRLEN);
  a->nla_type = type | NLA_F_NESTED;
  return at;
}

static inline void nest_end(buf_t *m, size_t at) { ((struct nlattr *)(m->b + at))->nla_len = (uint16_t)(m->len - at); }

// ---- sockets --------------------------------------------------------------

typedef struct {
  int fd;
  uint32_t port;
  uint8_t *rx;
  size_t rxcap;
} nl_t;

static inline void setopt_int(int fd, int level, int name, int v) { (void)setsockopt(fd, level, name, &v, sizeof(v)); }

// A netlink socket in the calling thread's current network namespace.
static inline void nl_open(nl_t *s, int protocol, int bufsize) {
  s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (s->fd < 0) die("socket(AF_NETLINK): %s", strerror(errno));
  setopt_int(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
  setopt_int(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
  setopt_int(s->fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
  if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize)) != 0)
    die("SO_RCVBUFFORCE: %s", strerror(errno));
  if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof(bufsize)) != 0)
    die("SO_SNDBUFFORCE: %s", strerror(errno));
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) die("bind(AF_NETLINK): %s", strerror(errno));
  socklen_t sl = sizeof(sa);
  if (getsockname(s->fd, (struct sockaddr *)&sa, &sl) != 0) die("getsockname: %s", strerror(errno));
  s->port = sa.nl_pid;
  s->rxcap = 1 << 20;
  s->rx = malloc(s->rxcap);
  if (!s->rx) die("out of memory");
}

static inline void nl_join(nl_t *s, int group) {
  if (setsockopt(s->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) != 0)
    die("NETLINK_ADD_MEMBERSHIP %d: %s", group, strerror(errno));
}

static inline void nl_close(nl_t *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  free(s->rx);
  s->rx = NULL;
}

// The whole buffer as one datagram: the kernel handles every message in it
// before sendmsg returns, so the replies are queued when this returns.
static inline void nl_send(nl_t *s, const buf_t *m) {
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  ssize_t n = sendto(s->fd, m->b, m->len, 0, (struct sockaddr *)&to, sizeof(to));
  if (n < 0) die("sendto(netlink, %zu bytes): %s", m->len, strerror(errno));
  if ((size_t)n != m->len) die("short netlink send: %zd of %zu", n, m->len);
}

static inline ssize_t nl_recv(nl_t *s, int timeout_ms) {
  for (;;) {
    if (timeout_ms >= 0) {
      struct pollfd p = {.fd = s->fd, .events = POLLIN};
      int r = poll(&p, 1, timeout_ms);
      if (r == 0) die("timed out after %d ms waiting for netlink messages", timeout_ms);
      if (r < 0 && errno != EINTR) die("poll: %s", strerror(errno));
    }
    ssize_t n = recv(s->fd, s->rx, s->rxcap, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == ENOBUFS) die("receive buffer overrun (ENOBUFS): replies were dropped");
    die("recv(netlink): %s", strerror(errno));
  }
}

// The extended-ack text of an NLMSG_ERROR, or "".
static inline const char *ext_ack_msg(const struct nlmsghdr *h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  const struct nlmsgerr *e = NLMSG_DATA(h);
  size_t off = NLMSG_HDRLEN + sizeof(int) +
               ((h->nlmsg_flags & NLM_F_CAPPED) ? NLMSG_HDRLEN : NLMSG_ALIGN(e->msg.nlmsg_len));
  while (off + NLA_HDRLEN <= h->nlmsg_len) {
    const struct nlattr *a = (const struct nlattr *)((const uint8_t *)h + off);
    if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) return (const char *)a + NLA_HDRLEN;
    off += NLA_ALIGN(a->nla_len);
  }
  return "";
}

// Reads until `count` replies arrived. For requests that are not dumps each
// message is one reply: the object asked for, or an NLMSG_ERROR (ack or error).
static inline void nl_wait(nl_t *s, size_t count, const char *what) {
  size_t got = 0;
  while (got < count) {
    ssize_t n = nl_recv(s, 30000);
    for (struct nlmsghdr *h = (struct nlmsghdr *)s->rx; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error) die("%s: %s%s%s", what, strerror(-e->error), *ext_ack_msg(h) ? ": " : "", ext_ack_msg(h));
      } else if (h->nlmsg_flags & NLM_F_MULTI) {
        die("%s: unexpected multipart reply", what);
      }
      got++;
    }
  }
}

// One request, its reply awaited.
static inline void nl_call(nl_t *s, const buf_t *m, const char *what) {
  nl_send(s, m);
  nl_wait(s, 1, what);
}

// Waits for `count` RTM_DELLINK events (generic link family, not the bridge's
// AF_BRIDGE port notices) for links whose name starts with prefix.
static inline void nl_wait_dellink(nl_t *s, const char *prefix, size_t count) {
  size_t got = 0, plen = strlen(prefix);
  while (got < count) {
    ssize_t n = nl_recv(s, 30000);
    for (struct nlmsghdr *h = (struct nlmsghdr *)s->rx; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != RTM_DELLINK) continue;
      const struct ifinfomsg *ifi = NLMSG_DATA(h);
      if (ifi->ifi_family != AF_UNSPEC) continue;
      struct rtattr *a = IFLA_RTA(ifi);
      int len = (int)IFLA_PAYLOAD(h);
      for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_IFNAME && strncmp(RTA_DATA(a), prefix, plen) == 0) {
          got++;
          break;
        }
      }
    }
  }
}

// ---- namespaces -----------------------------------------------------------

static inline int ns_open_self(void) {
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open /proc/thread-self/ns/net: %s", strerror(errno));
  return fd;
}

// Moves the program into a fresh network namespace of its own (inside the
// sandbox's) and returns a descriptor of it: everything the program creates
// lives there and vanishes with it.
static inline int ns_enter_new(void) {
  if (unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET): %s", strerror(errno));
  return ns_open_self();
}

// A new namespace, with a netlink socket opened inside it (if sock is not
// NULL); the program is back in `home` when this returns.
static inline int ns_create(int home, nl_t *sock, int bufsize) {
  if (unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET): %s", strerror(errno));
  int fd = ns_open_self();
  if (sock) nl_open(sock, NETLINK_ROUTE, bufsize);
  if (setns(home, CLONE_NEWNET) != 0) die("setns(home): %s", strerror(errno));
  return fd;
}

#endif
