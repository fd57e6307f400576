#include "engine.h"

#include <linux/netlink.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "netns.h"

namespace netweave {

namespace {

// Requests queued while the socket is busy go out together in one sendmsg.
// The caps keep every ack of a batch inside the receive buffer (an ack skb
// costs ~1 KiB of rcvbuf with NETLINK_CAP_ACK) so none is dropped.
constexpr size_t kMaxBatchRequests = 256;
constexpr size_t kMaxBatchBytes = 1 << 20;
constexpr int kDefaultRcvbuf = 8 << 20;
constexpr int kDefaultSndbuf = 32 << 20;  // one nftables transaction is one sendmsg
constexpr int kMaxDumpRetries = 8;
// After finishing work the thread polls its queue for a while before
// sleeping: an awaited request loop submits its next request within tens of
// µs, and catching it saves an eventfd write plus an epoll wake-up, which
// costs ~40 µs on this kind of VM (an awaited GETLINK: ~29 µs with the poll,
// ~78 µs without). How long is learned from the caller: the window follows
// twice the recent submit turnaround when that was catchable (< kSpinMax),
// and halves after a long idle gap, so a loop that awaits heavy JS work is
// caught and an idle process burns at most one short window per burst. The
// poll yields the CPU each turn, so the JS thread about to submit is never
// kept off a core. NETWEAVE_SPIN_US fixes the window instead. The ceiling
// covers a container connect's turnaround (~200 µs of JS, with a tail past
// 300 µs on this VM): with a 300 µs ceiling every long gap halved the window
// and the median connect woke the engine (22–32 µs in the submitting call,
// ~30 µs more before the engine ran).
constexpr int64_t kSpinMin = 10'000;
constexpr int64_t kSpinMax = 600'000;

int64_t FixedSpin() {
  static const int64_t v = [] {
    const char* e = getenv("NETWEAVE_SPIN_US");
    return e ? int64_t(atoll(e)) * 1000 : int64_t(-1);
  }();
  return v;
}

// A streamed dump hands its parts to JS in pieces of about this size, so
// JS decodes while the kernel still produces the rest.
constexpr size_t kStreamChunk = 256 << 10;

// Replies are read with recvmmsg into slots: one syscall for many replies.
// A unicast reply is sized to its content and dump parts stay under 32 KiB,
// so 128 KiB slots hold any reply seen in practice; a bigger one arrives
// truncated and fails its request with EMSGSIZE instead of vanishing.
constexpr unsigned kRxSlots = 16;
constexpr size_t kRxSlotSize = 128 << 10;

int64_t NowNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A new namespace's identity, sent along with its fd (what fstat says of
// it: st_dev then st_ino, u64 each), so JS need not stat it.
std::vector<uint8_t> NsIdentity(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return {};
  std::vector<uint8_t> out(16);
  uint64_t v[2] = {uint64_t(st.st_dev), uint64_t(st.st_ino)};
  std::memcpy(out.data(), v, 16);
  return out;
}

// What a namespace step or task answers: its fd (which JS closes; the
// engine does if it is never delivered) and identity, or -nsfd as errno.
Completion NamespaceDone(uint32_t id, int nsfd) {
  if (nsfd < 0) return {Completion::kTask, id, -nsfd, 0, {}};
  return {Completion::kTask, id, 0, int64_t(nsfd), NsIdentity(nsfd), Completion::kOwnsValueFd};
}

void SetOpt(int fd, int level, int name, int value) {
  // Options a kernel may lack (ENOPROTOOPT) are best effort by design.
  (void)setsockopt(fd, level, name, &value, sizeof(value));
}

void SetBuf(int fd, int force_name, int name, int size) {
  if (setsockopt(fd, SOL_SOCKET, force_name, &size, sizeof(size)) != 0)
    (void)setsockopt(fd, SOL_SOCKET, name, &size, sizeof(size));
}

}  // namespace

struct Engine::Req {
  Req(uint32_t i, uint32_t f, std::vector<uint8_t> d) : id(i), flags(f), data(std::move(d)) {}
  uint32_t id;
  uint32_t flags;
  std::vector<uint8_t> data;
  uint32_t seq_first = 0;
  uint32_t seq_last = 0;
  int retries = 0;
  bool intr = false;  // a dump part carried NLM_F_DUMP_INTR
  bool done = false;  // a dump saw NLMSG_DONE (or its error)
  bool streamed = false;  // parts of this attempt went to JS already
  int err = 0;
  std::vector<uint8_t> replies;
  std::shared_ptr<Chain> chain;  // set when this request is a chain step
};

struct Engine::Chain {
  std::vector<ChainStep> steps;
  // The completions of the steps done so far, in order (their replies feed
  // the later steps' patches); delivered together when the chain ends.
  std::vector<Completion> held;
  // Completions of other tasks a step did (a namespace step's socket), delivered with the rest.
  std::vector<Completion> extra;
  uint32_t key = 0;     // in open_chains_ while parts are to come
  bool open = false;    // more parts to come
  bool parked = false;  // every step so far done: waits for the next part
};

namespace {

// Whether replies hold an NLMSG_ERROR with a non-zero error.
bool HasErrorAck(const std::vector<uint8_t>& b) {
  for (size_t off = 0; off + NLMSG_HDRLEN <= b.size();) {
    const auto* h = reinterpret_cast<const nlmsghdr*>(b.data() + off);
    if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > b.size() - off) break;
    if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_len >= NLMSG_HDRLEN + sizeof(int32_t)) {
      int32_t e;
      std::memcpy(&e, b.data() + off + NLMSG_HDRLEN, sizeof(e));
      if (e != 0) return true;
    }
    off += NLMSG_ALIGN(h->nlmsg_len);
  }
  return false;
}

// The value a patch asks for, or false when the replies do not hold it.
bool PatchValue(const std::vector<uint8_t>& b, const ChainPatch& p, uint32_t* out) {
  for (size_t off = 0; off + NLMSG_HDRLEN <= b.size();) {
    const auto* h = reinterpret_cast<const nlmsghdr*>(b.data() + off);
    if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > b.size() - off) return false;
    if (h->nlmsg_type == p.msg_type) {
      const uint8_t* pl = b.data() + off + NLMSG_HDRLEN;
      size_t len = h->nlmsg_len - NLMSG_HDRLEN;
      if (p.attr == 0) {
        if (size_t(p.field) + 4 > len) return false;
        std::memcpy(out, pl + p.field, 4);
        return true;
      }
      for (size_t a = NLMSG_ALIGN(p.field); a + NLA_HDRLEN <= len;) {
        const auto* nla = reinterpret_cast<const nlattr*>(pl + a);
        if (nla->nla_len < NLA_HDRLEN || nla->nla_len > len - a) return false;
        if ((nla->nla_type & NLA_TYPE_MASK) == p.attr && nla->nla_len >= NLA_HDRLEN + 4) {
          std::memcpy(out, pl + a + NLA_HDRLEN, 4);
          return true;
        }
        a += NLA_ALIGN(nla->nla_len);
      }
      return false;
    }
    off += NLMSG_ALIGN(h->nlmsg_len);
  }
  return false;
}

}  // namespace

struct Engine::Sock {
  Sock(uint32_t h, int f, bool e) : handle(h), fd(f), events(e) {}
  uint32_t handle;
  int fd = -1;
  bool events = false;
  bool busy = false;  // listed in busy_
  std::deque<Req*> pending;
  std::vector<Req*> inflight;  // sorted by seq_first
  Req* dump = nullptr;         // the in-flight dump, at most one per socket
};

Engine::Engine(std::function<void()> notify) : notify_(std::move(notify)) {}

Engine::~Engine() { Stop(); }

int Engine::Start() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return -errno;
  wakefd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakefd_ < 0) return -errno;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // handle 0 is the wake-up fd; sockets start at 1
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) != 0) return -errno;
  rxbuf_.resize(kRxSlots * kRxSlotSize);
  thread_ = std::thread([this] { Loop(); });
  return 0;
}

void Engine::Stop() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    uint64_t one = 1;
    (void)!write(wakefd_, &one, sizeof(one));
    thread_.join();
  }
  if (wakefd_ >= 0) close(wakefd_);
  if (epfd_ >= 0) close(epfd_);
  wakefd_ = epfd_ = -1;
  // Completions JS will never take: what they would have handed over is closed here.
  std::lock_guard<std::mutex> lock(done_mu_);
  for (const Completion& c : done_) CloseOwned(c);
  done_.clear();
}

void CloseOwned(const Completion& c) {
  if (c.owns == Completion::kOwnsValueFd && c.err == 0 && c.value >= 0) close(int(c.value));
  if (c.owns == Completion::kOwnsDataFds) {
    for (size_t off = 0; off + sizeof(int32_t) <= c.data.size(); off += sizeof(int32_t)) {
      int32_t fd;
      std::memcpy(&fd, c.data.data() + off, sizeof(fd));
      if (fd >= 0) close(fd);
    }
  }
}

void Engine::Submit(Command cmd) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    commands_.push_back(std::move(cmd));
    wake = sleeping_;
    sleeping_ = false;
  }
  queued_.fetch_add(1, std::memory_order_release);
  last_woke_ = wake;
  if (wake) {
    uint64_t one = 1;
    (void)!write(wakefd_, &one, sizeof(one));
  }
}

void Engine::OpenSocket(uint32_t task_id, uint32_t handle, SocketOptions opts) {
  Command c;
  c.op = Command::kOpen;
  c.id = task_id;
  c.handle = handle;
  c.socket = std::move(opts);
  Submit(std::move(c));
}

void Engine::CreateNetnsWithSocket(uint32_t id, uint32_t open_id, uint32_t handle, SocketOptions opts) {
  Command c;
  c.op = Command::kCreateNs;
  c.id = id;
  c.open_id = open_id;
  c.handle = handle;
  c.socket = std::move(opts);
  Submit(std::move(c));
}

void Engine::Request(uint32_t handle, uint32_t id, std::vector<uint8_t> data, uint32_t flags) {
  Command c;
  c.op = Command::kRequest;
  c.handle = handle;
  c.id = id;
  c.flags = flags;
  c.data = std::move(data);
  Submit(std::move(c));
}

void Engine::CloseSocket(uint32_t handle) {
  Command c;
  c.op = Command::kClose;
  c.handle = handle;
  Submit(std::move(c));
}

void Engine::RequestChain(std::vector<ChainStep> steps, ChainPart part, uint32_t key) {
  Command c;
  c.op = Command::kChain;
  c.chain = std::move(steps);
  c.part = part;
  c.key = key;
  Submit(std::move(c));
}

void Engine::RunTask(uint32_t id, Task task, Completion::Owns owns) {
  Command c;
  c.op = Command::kTask;
  c.id = id;
  c.task = std::move(task);
  c.owns = owns;
  Submit(std::move(c));
}

std::vector<Completion> Engine::TakeCompletions(size_t max, bool* more) {
  std::vector<Completion> out;
  std::lock_guard<std::mutex> lock(done_mu_);
  if (done_.size() <= max) {
    out.swap(done_);
    notified_ = false;
    *more = false;
  } else {
    // Leave the rest queued, still "notified": the caller schedules another
    // delivery itself, after the event loop has had a turn.
    out.assign(std::make_move_iterator(done_.begin()), std::make_move_iterator(done_.begin() + max));
    done_.erase(done_.begin(), done_.begin() + max);
    *more = true;
  }
  return out;
}

// Queues several completions at once: JS takes them in one delivery.
void Engine::CompleteAll(std::vector<Completion> cs) {
  bool call;
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    for (Completion& c : cs) done_.push_back(std::move(c));
    call = !notified_;
    notified_ = true;
  }
  if (call) notify_();
}

void Engine::Complete(Completion c) {
  bool call;
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done_.push_back(std::move(c));
    call = !notified_;
    notified_ = true;
  }
  if (call) notify_();
}

void Engine::Loop() {
  home_ = OpenThreadNetns();
  if (home_ < 0) RestoreFailed(-home_);
  std::vector<Command> local;
  epoll_event events[64];
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
      local.swap(commands_);
    }
    if (!local.empty()) {
      queued_.fetch_sub(uint32_t(local.size()), std::memory_order_relaxed);
      for (Command& c : local) Execute(c);
      local.clear();
    }

    // One batch per busy socket per round, so requests arriving meanwhile
    // join the next batch and no socket starves the others.
    for (size_t i = 0; i < busy_.size();) {
      Sock* s = busy_[i];
      SendBatch(s);
      if (s->pending.empty() || (s->dump && s->pending.front()->flags & kRequestDump)) {
        s->busy = false;
        busy_[i] = busy_.back();
        busy_.pop_back();
      } else {
        ++i;
      }
    }

    int timeout = 0;
    int64_t idle_since = 0;
    if (busy_.empty() && queued_.load(std::memory_order_acquire) == 0) {
      idle_since = NowNanos();
      int64_t until = idle_since + (FixedSpin() >= 0 ? FixedSpin() : spin_ns_);
      while (queued_.load(std::memory_order_acquire) == 0 && NowNanos() < until) sched_yield();
      std::lock_guard<std::mutex> lock(mu_);
      if (commands_.empty() && !stop_) {
        sleeping_ = true;
        timeout = -1;
      }
    }
    int n = epoll_wait(epfd_, events, 64, timeout);
    if (timeout != 0) {
      std::lock_guard<std::mutex> lock(mu_);
      sleeping_ = false;
    }
    if (idle_since && queued_.load(std::memory_order_acquire) != 0) LearnSpin(NowNanos() - idle_since);
    for (int i = 0; i < n; i++) {
      uint32_t handle = uint32_t(events[i].data.u64);
      if (handle == 0) {
        uint64_t v;
        (void)!read(wakefd_, &v, sizeof(v));
        continue;
      }
      auto it = socks_.find(handle);
      if (it == socks_.end()) continue;
      if (it->second->events) DrainEvents(it->second);
      else Drain(it->second);
    }
  }
  // Shutdown: cancel everything still queued or in flight.
  std::vector<Command> rest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rest.swap(commands_);
  }
  for (Command& c : rest) {
    if (c.op == Command::kOpen && c.socket.nsfd >= 0) close(c.socket.nsfd);
  }
  std::vector<uint32_t> handles;
  for (auto& kv : socks_) handles.push_back(kv.first);
  for (uint32_t h : handles) Close(h, ECANCELED);
  // Chains still waiting for a part end with what they did.
  std::vector<std::shared_ptr<Chain>> waiting;
  for (auto& kv : open_chains_) waiting.push_back(kv.second);
  for (auto& ch : waiting) EndChain(ch, ECANCELED);
  close(home_);
}

// `gap`: from going idle to the next submission. Catchable gaps move the
// window towards twice their running average; a long gap halves it.
void Engine::LearnSpin(int64_t gap) {
  if (gap < kSpinMax) avg_gap_ = (3 * avg_gap_ + gap) / 4;
  else avg_gap_ /= 2;
  spin_ns_ = std::min(kSpinMax, std::max(kSpinMin, 2 * avg_gap_));
}

void Engine::Execute(Command& c) {
  switch (c.op) {
    case Command::kOpen:
      Open(c);
      break;
    case Command::kCreateNs:
      CreateNs(c);
      break;
    case Command::kClose:
      Close(c.handle, ECANCELED);
      break;
    case Command::kTask: {
      Completion done{Completion::kTask, c.id, 0, 0, {}};
      int64_t r = c.task(home_, &done.data);
      if (r < 0) done.err = int(-r);
      else done.value = r;
      done.owns = c.owns;
      Complete(std::move(done));
      break;
    }
    case Command::kChain: {
      if (c.part == kChainMore || c.part == kChainLast) {
        AddToChain(c);
        break;
      }
      if (c.chain.empty() && c.part == kChainWhole) break;
      auto ch = std::make_shared<Chain>();
      ch->steps = std::move(c.chain);
      if (c.part == kChainOpen) {
        ch->key = c.key;
        ch->open = true;
        open_chains_[c.key] = ch;
      }
      Advance(ch);
      break;
    }
    case Command::kRequest: {
      auto it = socks_.find(c.handle);
      if (it == socks_.end()) {
        Complete({Completion::kRequest, c.id, EBADF, 0, {}});
        break;
      }
      Sock* s = it->second;
      s->pending.push_back(new Req(c.id, c.flags, std::move(c.data)));
      if (!s->busy) {
        s->busy = true;
        busy_.push_back(s);
      }
      break;
    }
  }
}

void Engine::Open(Command& c) {
  SocketOptions& o = c.socket;
  int fd = SocketInNetns(home_, o.nsfd, AF_NETLINK, SOCK_RAW, o.protocol);
  if (o.nsfd >= 0) close(o.nsfd);
  if (fd < 0) {
    Complete({Completion::kTask, c.id, -fd, 0, {}});
    return;
  }
  Complete(Register(c.id, c.handle, fd, o));
}

int Engine::CreateNsWithSocket(uint32_t open_id, uint32_t handle, const SocketOptions& o, std::vector<Completion>* out) {
  int sock = -1;
  int nsfd = CreateNetns(home_, [&] {
    sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, o.protocol);
    if (sock < 0) sock = -errno;
  });
  if (nsfd < 0) out->push_back({Completion::kTask, open_id, -nsfd, 0, {}});
  else if (sock < 0) out->push_back({Completion::kTask, open_id, -sock, 0, {}});
  else out->push_back(Register(open_id, handle, sock, o));
  return nsfd;
}

void Engine::CreateNs(Command& c) {
  // The socket's task first, so the namespace arrives with its socket open;
  // on failure both go in one delivery: when JS sees the namespace fail,
  // the socket's task has settled too and nothing keeps the process alive.
  std::vector<Completion> out;
  int nsfd = CreateNsWithSocket(c.open_id, c.handle, c.socket, &out);
  out.push_back(NamespaceDone(c.id, nsfd));
  CompleteAll(std::move(out));
}

Completion Engine::Register(uint32_t task_id, uint32_t handle, int fd, const SocketOptions& o) {
  SetOpt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
  SetOpt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
  SetOpt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
  SetBuf(fd, SO_RCVBUFFORCE, SO_RCVBUF, o.rcvbuf > 0 ? o.rcvbuf : kDefaultRcvbuf);
  SetBuf(fd, SO_SNDBUFFORCE, SO_SNDBUF, o.sndbuf > 0 ? o.sndbuf : kDefaultSndbuf);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  socklen_t alen = sizeof(addr);
  int err = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) {
    err = errno;
  }
  for (uint32_t g : o.groups) {
    if (!err && setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) != 0) err = errno;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = handle;
  if (!err && epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) err = errno;
  if (err) {
    close(fd);
    return {Completion::kTask, task_id, err, 0, {}};
  }
  socks_[handle] = new Sock(handle, fd, !o.groups.empty());
  return {Completion::kTask, task_id, 0, int64_t(addr.nl_pid), {}};
}

void Engine::Close(uint32_t handle, int err) {
  auto it = socks_.find(handle);
  if (it == socks_.end()) return;
  Sock* s = it->second;
  socks_.erase(it);
  if (s->busy) busy_.erase(std::find(busy_.begin(), busy_.end(), s));
  epoll_ctl(epfd_, EPOLL_CTL_DEL, s->fd, nullptr);
  close(s->fd);
  for (Req* r : s->inflight) {
    r->err = err;
    Finish(r);
  }
  for (Req* r : s->pending) {
    r->err = err;
    Finish(r);
  }
  delete s;
}

// Picks what goes into one sendmsg, numbers every message, sends, drains.
void Engine::SendBatch(Sock* s) {
  std::vector<Req*> batch;
  std::vector<iovec> iov;
  size_t bytes = 0;
  bool alone = false;
  while (!s->pending.empty()) {
    Req* r = s->pending.front();
    bool dump = r->flags & kRequestDump;
    if (!batch.empty() && (alone || (r->flags & kRequestAlone))) break;
    if (dump && s->dump) break;
    if (!batch.empty() && (batch.size() >= kMaxBatchRequests || bytes + r->data.size() > kMaxBatchBytes))
      break;
    s->pending.pop_front();
    alone = r->flags & kRequestAlone;
    r->seq_first = next_seq_;
    for (size_t off = 0; off + NLMSG_HDRLEN <= r->data.size();) {
      auto* h = reinterpret_cast<nlmsghdr*>(r->data.data() + off);
      h->nlmsg_seq = next_seq_++;
      if (next_seq_ == 0) next_seq_ = 1;  // seq 0 is what the kernel uses for events
      off += NLMSG_ALIGN(h->nlmsg_len);
    }
    r->seq_last = next_seq_ - 1;
    if (dump) s->dump = r;
    batch.push_back(r);
    iov.push_back({r->data.data(), r->data.size()});
    bytes += r->data.size();
  }
  if (batch.empty()) return;

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr msg{};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof(kernel);
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  stats.sendmsgs.fetch_add(1, std::memory_order_relaxed);
  stats.requests.fetch_add(batch.size(), std::memory_order_relaxed);
  ssize_t sent;
  do {
    sent = sendmsg(s->fd, &msg, 0);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    int err = errno;
    for (Req* r : batch) {
      if (r == s->dump) s->dump = nullptr;
      r->err = err;
      Finish(r);
    }
    return;
  }
  // Dumps from earlier batches have lower sequence numbers: appending keeps
  // inflight sorted.
  s->inflight.insert(s->inflight.end(), batch.begin(), batch.end());
  Drain(s);
  FinishBatch(s, batch);
}

// rtnetlink and nfnetlink handle a sendmsg synchronously: by the time it
// returns, every reply except later dump parts is already queued. So after
// draining to EAGAIN each non-dump request of the batch is complete, even
// when the kernel chose not to acknowledge some of its messages (e.g. an
// nfnetlink batch whose header it rejected) — no ack counting, no hang.
void Engine::FinishBatch(Sock* s, std::vector<Req*>& batch) {
  for (Req* r : batch) {
    if (r->flags & kRequestDump) continue;
    auto it = std::find(s->inflight.begin(), s->inflight.end(), r);
    if (it != s->inflight.end()) {
      s->inflight.erase(it);
      Finish(r);
    }
  }
}

// Reads up to kRxSlots datagrams; returns how many, 0 at EAGAIN, -errno.
int Engine::Receive(Sock* s, mmsghdr* msgs, iovec* iov) {
  for (unsigned i = 0; i < kRxSlots; i++) {
    iov[i] = {rxbuf_.data() + i * kRxSlotSize, kRxSlotSize};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  for (;;) {
    int n = recvmmsg(s->fd, msgs, kRxSlots, MSG_DONTWAIT, nullptr);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -errno;
  }
}

void Engine::Drain(Sock* s) {
  mmsghdr msgs[kRxSlots];
  iovec iov[kRxSlots];
  for (;;) {
    int n = Receive(s, msgs, iov);
    if (n == 0) break;
    if (n < 0) {
      // ENOBUFS: a reply was dropped, so no in-flight request can be
      // trusted. Anything else: the socket is unusable. Fail them all.
      int err = -n;
      for (Req* r : s->inflight) {
        r->err = err;
        Finish(r);
      }
      s->inflight.clear();
      s->dump = nullptr;
      if (err == ENOBUFS) continue;
      break;
    }
    for (int i = 0; i < n; i++) {
      const uint8_t* data = static_cast<const uint8_t*>(iov[i].iov_base);
      size_t len = msgs[i].msg_len;
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        FailTruncated(s, data, len);
        continue;
      }
      Dispatch(s, data, len);
    }
    Req* d = s->dump;
    if (d && (d->flags & kRequestStream) && !d->intr && !d->done && d->replies.size() >= kStreamChunk) {
      d->streamed = true;
      Complete({Completion::kPartial, d->id, 0, d->retries, std::move(d->replies)});
      d->replies.clear();
    }
  }
  // A finished dump is either complete or, if the kernel saw the data change
  // under it, sent again a bounded number of times.
  if (s->dump && s->dump->done) {
    Req* r = s->dump;
    s->dump = nullptr;
    s->inflight.erase(std::find(s->inflight.begin(), s->inflight.end(), r));
    if (r->intr && r->err == 0 && r->retries < kMaxDumpRetries) {
      r->retries++;
      stats.dump_retries.fetch_add(1, std::memory_order_relaxed);
      r->intr = r->done = false;
      r->replies.clear();
      if (r->streamed) Complete({Completion::kPartial, r->id, ECANCELED, r->retries, {}});
      r->streamed = false;
      s->pending.push_front(r);
    } else {
      if (r->intr && r->err == 0) {
        r->err = EINTR;
        r->replies.clear();
      }
      Finish(r);
    }
  }
  if (!s->pending.empty() && !s->busy) {
    s->busy = true;
    busy_.push_back(s);
  }
}

void Engine::Dispatch(Sock* s, const uint8_t* buf, size_t len) {
  size_t off = 0;
  while (off + NLMSG_HDRLEN <= len) {
    const auto* h = reinterpret_cast<const nlmsghdr*>(buf + off);
    if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len - off) break;
    size_t next = off + NLMSG_ALIGN(h->nlmsg_len);
    uint32_t seq = h->nlmsg_seq;
    auto it = std::upper_bound(s->inflight.begin(), s->inflight.end(), seq,
                               [](uint32_t v, const Req* r) { return v < r->seq_first; });
    if (it != s->inflight.begin()) {
      Req* r = *(it - 1);
      if (seq <= r->seq_last) {
        r->replies.insert(r->replies.end(), buf + off, buf + off + h->nlmsg_len);
        if (h->nlmsg_flags & NLM_F_DUMP_INTR) r->intr = true;
        if (r == s->dump && (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR))
          r->done = true;
      }
    }
    // Replies matching nothing belong to a cancelled or retried request.
    off = std::min(next, len);
  }
}

void Engine::DrainEvents(Sock* s) {
  mmsghdr msgs[kRxSlots];
  iovec iov[kRxSlots];
  std::vector<uint8_t> data;
  for (;;) {
    int n = Receive(s, msgs, iov);
    if (n == 0) break;
    if (n < 0) {
      // The receive buffer overran and events were lost: the subscriber must
      // re-read the state. Deliver what came before, then the signal.
      if (!data.empty()) Complete({Completion::kEvent, s->handle, 0, 0, std::move(data)});
      data.clear();
      Complete({Completion::kEvent, s->handle, -n, 0, {}});
      if (n == -ENOBUFS) continue;
      break;
    }
    for (int i = 0; i < n; i++) {
      const uint8_t* p = static_cast<const uint8_t*>(iov[i].iov_base);
      // A truncated event is an event lost: same signal as an overrun.
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        if (!data.empty()) Complete({Completion::kEvent, s->handle, 0, 0, std::move(data)});
        data.clear();
        Complete({Completion::kEvent, s->handle, EMSGSIZE, 0, {}});
        continue;
      }
      data.insert(data.end(), p, p + msgs[i].msg_len);
    }
    if (data.size() >= (1 << 20)) {
      Complete({Completion::kEvent, s->handle, 0, 0, std::move(data)});
      data.clear();
    }
  }
  if (!data.empty()) Complete({Completion::kEvent, s->handle, 0, 0, std::move(data)});
}

// The header of a truncated datagram is intact: fail the request it belongs to.
void Engine::FailTruncated(Sock* s, const uint8_t* buf, size_t len) {
  if (len < NLMSG_HDRLEN) return;
  uint32_t seq = reinterpret_cast<const nlmsghdr*>(buf)->nlmsg_seq;
  for (Req* r : s->inflight) {
    if (seq >= r->seq_first && seq <= r->seq_last) {
      r->err = EMSGSIZE;
      if (r == s->dump) r->done = true;
    }
  }
}

void Engine::Finish(Req* r) {
  std::shared_ptr<Chain> ch = std::move(r->chain);
  // value = the first sequence number, so JS can map an error ack back to
  // the index of the message it answers.
  Completion c{Completion::kRequest, r->id, r->err, int64_t(r->seq_first), {}};
  if (!ch) {
    c.data = std::move(r->replies);
    delete r;
    Complete(std::move(c));
    return;
  }
  bool ok = r->err == 0 && !HasErrorAck(r->replies);
  c.data = std::move(r->replies);
  delete r;
  // A chain's completions are held and delivered together when it ends:
  // one wake-up of the JS thread per chain, none while its kernel work runs.
  ch->held.push_back(std::move(c));
  if (ok) Advance(ch);
  else EndChain(ch, 0);
}

// A later part of an open chain: its steps join the chain, which goes on
// if it was waiting for them. A chain that ended already (a step failed)
// cancels them; so does one that never was.
void Engine::AddToChain(Command& c) {
  auto it = open_chains_.find(c.key);
  if (it == open_chains_.end()) {
    auto ch = std::make_shared<Chain>();
    ch->steps = std::move(c.chain);
    EndChain(ch, 0);
    return;
  }
  std::shared_ptr<Chain> ch = it->second;
  for (ChainStep& st : c.chain) ch->steps.push_back(std::move(st));
  if (c.part == kChainLast) {
    ch->open = false;
    open_chains_.erase(it);
  }
  if (ch->parked) {
    ch->parked = false;
    Advance(ch);
  }
}

// Delivers what a chain held, then fails its steps from the first one not
// sent: with `err` (why it could not go out), the rest with ECANCELED.
void Engine::EndChain(const std::shared_ptr<Chain>& ch, int err) {
  if (ch->open) {
    // Ended before its last part came: that part is cancelled on arrival.
    ch->open = false;
    open_chains_.erase(ch->key);
  }
  size_t done = ch->held.size();
  std::vector<Completion> all = std::move(ch->held);
  ch->held.clear();
  for (Completion& c : ch->extra) all.push_back(std::move(c));
  ch->extra.clear();
  for (size_t i = done; i < ch->steps.size(); i++) {
    all.push_back({Completion::kRequest, ch->steps[i].id, err ? err : ECANCELED, 0, {}});
    // A namespace step never reached: its socket is not opened either.
    if (ch->steps[i].open_id) all.push_back({Completion::kTask, ch->steps[i].open_id, ECANCELED, 0, {}});
    err = 0;
  }
  CompleteAll(std::move(all));
}

// Queues the chain's next step (the one after the replies seen so far) on
// its socket, patched from the earlier replies; a step that cannot go out
// fails, and the rest with it.
void Engine::Advance(const std::shared_ptr<Chain>& ch) {
  size_t i = ch->held.size();
  // Task and namespace steps run here and now; the chain goes on while they succeed.
  for (; i < ch->steps.size() && (ch->steps[i].task || ch->steps[i].open_id); i++) {
    ChainStep& st = ch->steps[i];
    Completion done{Completion::kTask, st.id, 0, 0, {}};
    int64_t r;
    if (st.open_id) {
      SocketOptions o;
      o.protocol = st.protocol;
      // The socket's completion waits with the chain's: no wake-up of JS mid-chain.
      std::vector<Completion> opened;
      r = CreateNsWithSocket(st.open_id, st.handle, o, &opened);
      for (Completion& c : opened) ch->extra.push_back(std::move(c));
      done = NamespaceDone(st.id, int(r));
    } else {
      r = st.task(home_, &done.data);
      st.task = nullptr;
      done.owns = st.owns;
    }
    if (r < 0) done.err = int(-r);
    else done.value = r;
    ch->held.push_back(std::move(done));
    if (r < 0) {
      EndChain(ch, 0);
      return;
    }
  }
  if (i >= ch->steps.size()) {
    if (ch->open) ch->parked = true;
    else EndChain(ch, 0);
    return;
  }
  ChainStep& st = ch->steps[i];
  auto it = socks_.find(st.handle);
  int err = it == socks_.end() ? EBADF : 0;
  for (const ChainPatch& p : st.patches) {
    if (err) break;
    uint32_t v = 0;
    if (p.from >= i || size_t(p.target) + 4 > st.data.size()) err = EINVAL;
    else if (p.msg_type == 0) v = uint32_t(ch->held[p.from].value);
    else if (!PatchValue(ch->held[p.from].data, p, &v)) err = ENODATA;
    if (!err) std::memcpy(st.data.data() + p.target, &v, 4);
  }
  if (err) {
    EndChain(ch, err);
    return;
  }
  Req* r = new Req(st.id, st.flags & ~uint32_t(kRequestDump), std::move(st.data));
  r->chain = ch;
  Sock* s = it->second;
  s->pending.push_back(r);
  if (!s->busy) {
    s->busy = true;
    busy_.push_back(s);
  }
}

}  // namespace netweave
