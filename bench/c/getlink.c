// Reference for bench/getlink.ts: RTM_GETLINK of `lo` (the request netweave
// sends: ifinfomsg + IFLA_IFNAME "lo", no NLM_F_ACK; the reply is the link).
//   getlink [awaited=20000] [in_flight=10000]
// Awaited: one request, its reply read, then the next. In flight: batches of
// B requests in one datagram (the kernel answers all before send returns),
// then all B replies read; every B that fits the receive buffer is tried and
// the fastest is the reference. Prints one JSON line.
#include "rt.h"

static void getlink_lo(buf_t *m) {
  size_t at = msg_begin(m, RTM_GETLINK, NLM_F_REQUEST);
  msg_struct(m, struct ifinfomsg);
  attr_str(m, IFLA_IFNAME, "lo");
  msg_end(m, at);
}

int main(int argc, char **argv) {
  prog_name = "getlink";
  long awaited = argc > 1 ? atol(argv[1]) : 20000;
  long in_flight = argc > 2 ? atol(argv[2]) : 10000;
  nl_t s;
  nl_open(&s, NETLINK_ROUTE, 64 << 20);  // room for 4,096 queued replies

  buf_t one = {0};
  getlink_lo(&one);
  for (int i = 0; i < 2000; i++) nl_call(&s, &one, "get lo (warm-up)");

  samples_t aw = {0};
  uint64_t t_all = now_ns();
  for (long i = 0; i < awaited; i++) {
    uint64_t t0 = now_ns();
    nl_send(&s, &one);
    nl_wait(&s, 1, "get lo");
    samples_add(&aw, us_since(t0));
  }
  double aw_total = us_since(t_all);

  static const long batches[] = {16, 64, 256, 1024, 4096};
  double by_batch[sizeof batches / sizeof batches[0]];
  double best = 0;
  long best_batch = 0;
  buf_t m = {0};
  for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
    long B = batches[b] < in_flight ? batches[b] : in_flight;
    buf_reset(&m);
    for (long i = 0; i < B; i++) getlink_lo(&m);
    double rounds[3];
    for (int r = 0; r < 3; r++) {
      uint64_t t0 = now_ns();
      for (long done = 0; done < in_flight; done += B) {
        long k = in_flight - done < B ? in_flight - done : B;
        buf_t part = {m.b, m.len * (size_t)k / (size_t)B, m.cap};  // the first k messages
        nl_send(&s, &part);
        nl_wait(&s, (size_t)k, "get lo (in flight)");
      }
      rounds[r] = us_since(t0) / (double)in_flight;
    }
    qsort(rounds, 3, sizeof(double), cmp_double);
    by_batch[b] = rounds[1];
    if (!best_batch || by_batch[b] < best) best = by_batch[b], best_batch = B;
  }

  printf("{\"bench\":\"getlink\",");
  json_samples(stdout, "awaited", &aw);
  printf(",\"awaited_total_us_per_op\":%.3f", aw_total / (double)awaited);
  printf(",\"in_flight\":{\"n\":%ld,\"us_per_op\":%.3f,\"best_batch\":%ld,\"by_batch\":{", in_flight, best, best_batch);
  for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
    printf("%s\"%ld\":%.3f", b ? "," : "", batches[b], by_batch[b]);
  printf("}}}\n");
  nl_close(&s);
  return 0;
}
