// The I/O engine: one thread per Node environment that owns every netlink
// socket of that environment and does all of their sends and receives.
//
// Why one dedicated thread rather than the libuv pool: a promise round trip
// through the pool costs ~50 µs here, ~7x a whole kernel GETLINK, and the pool
// cannot park on a socket for events. Why one thread for all sockets rather
// than one per socket: a container setup opens a socket per namespace, and
// rtnetlink serialises on rtnl_lock anyway, so more threads add no throughput.
// The thread multiplexes the sockets and a wake-up eventfd with epoll.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct mmsghdr;
struct iovec;

namespace netweave {

enum RequestFlags : uint32_t {
  kRequestDump = 1,   // one dump message; completes on NLMSG_DONE
  kRequestAlone = 2,  // must be the only thing in its sendmsg (nfnetlink batch)
  kRequestStream = 4, // with kRequestDump: deliver the parts as they arrive (kPartial)
};

struct Completion {
  // kPartial: replies of a streamed dump so far (err ECANCELED: drop the
  // parts delivered, the dump starts again); the request's own kRequest
  // completion follows with the rest.
  enum Kind : uint8_t { kRequest = 0, kTask = 1, kEvent = 2, kPartial = 3 };
  // Descriptors a completion hands to JS, which closes them: closed by the
  // engine instead if it is never delivered (the environment stopped).
  enum Owns : uint8_t { kOwnsNone = 0, kOwnsValueFd = 1, kOwnsDataFds = 2 };
  Kind kind;
  uint32_t id;    // request or task id; socket handle for events
  int err;        // positive errno, 0 on success
  int64_t value;  // task result (an fd, a port id, ...)
  std::vector<uint8_t> data;
  Owns owns = kOwnsNone;  // kOwnsDataFds: data is int32 fds
};

// Closes what an undelivered completion owns (see Completion::Owns).
void CloseOwned(const Completion& c);

// A task runs on the I/O thread. `home` is an fd of that thread's own
// namespace, for InNetns. It returns a value >= 0 or -errno, and may fill
// `out` with bytes for JS.
using Task = std::function<int64_t(int home, std::vector<uint8_t>* out)>;

// One request of a chain (Engine::RequestChain). Before it is sent, each
// patch copies a u32 out of an earlier step's replies into its bytes: from
// the first reply message of type `msg_type`, the u32 at payload offset
// `field` (attr == 0), or the value of the first attribute of type `attr`
// found after a fixed header of `field` bytes. msg_type 0: the earlier
// step's value (a task's result, e.g. a new namespace's fd).
struct ChainPatch {
  uint16_t from = 0;
  uint16_t msg_type = 0;
  uint16_t attr = 0;
  uint16_t field = 0;
  uint32_t target = 0;
};

// A step is a request on a socket, or (task set) a task run on the engine
// thread when the step is reached: a negative result fails the chain with
// that errno, as an error ack would. With open_id set it creates a
// namespace instead (its value: the namespace's fd) and, inside it, a
// socket registered as `handle` (completion open_id), as CreateNetnsWithSocket.
struct ChainStep {
  uint32_t handle = 0;
  uint32_t id = 0;
  uint32_t flags = 0;
  std::vector<uint8_t> data;
  std::vector<ChainPatch> patches;
  Task task;
  Completion::Owns owns = Completion::kOwnsNone;  // what the task's result hands to JS
  uint32_t open_id = 0;
  int protocol = 0;
};

struct SocketOptions {
  int protocol = 0;
  int nsfd = -1;  // owned by the engine once passed in (closed after open)
  std::vector<uint32_t> groups;  // non-empty: an event socket
  int rcvbuf = 0;
  int sndbuf = 0;
};

class Engine {
 public:
  // `notify` is called on the I/O thread when completions become available
  // after none were waiting; the JS side then calls TakeCompletions().
  explicit Engine(std::function<void()> notify);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  int Start();  // -errno on failure
  void Stop();  // joins the thread; pending work is cancelled (ECANCELED)

  // Called from the JS thread. Completions arrive with the given ids.
  void OpenSocket(uint32_t task_id, uint32_t handle, SocketOptions opts);
  // Creates an anonymous namespace (task `id`, value: its fd) and, while the
  // thread is inside it, a socket registered as `handle` (completion
  // `open_id`, like OpenSocket's): a new namespace with its rtnetlink socket
  // in one pass, without switching into it a second time.
  void CreateNetnsWithSocket(uint32_t id, uint32_t open_id, uint32_t handle, SocketOptions opts);
  void Request(uint32_t handle, uint32_t id, std::vector<uint8_t> data, uint32_t flags);
  void CloseSocket(uint32_t handle);
  // Requests on any sockets, sent one after the other in one pass of the
  // I/O thread: each goes out only when every earlier one was acknowledged
  // without error, else it completes with ECANCELED. Saves a round trip to
  // JS per dependent step (a veth, then the configuration inside its peer's
  // namespace, then a tag). All completions arrive together at the end.
  //
  // A chain can also be sent in parts (`part`): kChainOpen starts chain `key`
  // (its first step's id) with more steps to come, kChainMore and kChainLast
  // add steps to it, the last part ending it. Its first steps run while the
  // caller builds the rest: a container's namespace is made while JS writes
  // the requests that go into it. A chain whose open steps are done waits
  // for the next part; patches name steps by their index in the whole chain.
  // A part added to a chain that already failed completes with ECANCELED.
  enum ChainPart : uint8_t { kChainWhole, kChainOpen, kChainMore, kChainLast };
  void RequestChain(std::vector<ChainStep> steps, ChainPart part = kChainWhole, uint32_t key = 0);
  // `owns`: what the task's result hands to JS (an fd as its value, fds as its data).
  void RunTask(uint32_t id, Task task, Completion::Owns owns = Completion::kOwnsNone);

  // Whether the last submission had to wake the I/O thread (it was asleep,
  // not polling): JS then has no reason to poll for its completion.
  bool LastSubmitWoke() const { return last_woke_; }

  // Up to `max` completions, oldest first; *more says whether some remain.
  std::vector<Completion> TakeCompletions(size_t max, bool* more);

  // Counters for tests and benches (written by the I/O thread).
  struct Stats {
    std::atomic<uint64_t> sendmsgs{0};
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> dump_retries{0};
  };
  Stats stats;

 private:
  struct Req;
  struct Sock;
  struct Chain;
  struct Command {
    enum Op : uint8_t { kOpen, kRequest, kClose, kTask, kChain, kCreateNs } op = kTask;
    uint32_t handle = 0;
    uint32_t id = 0;
    uint32_t flags = 0;
    uint32_t open_id = 0;  // kCreateNs: completion of its socket
    ChainPart part = kChainWhole;  // kChain
    uint32_t key = 0;              // kChain: the chain a part belongs to
    std::vector<uint8_t> data;
    SocketOptions socket;
    Task task;
    Completion::Owns owns = Completion::kOwnsNone;  // kTask
    std::vector<ChainStep> chain;
  };

  void Loop();
  void Submit(Command cmd);
  void Execute(Command& cmd);
  void Open(Command& cmd);
  void CreateNs(Command& cmd);
  // The namespace and its socket: the namespace's fd or -errno; the socket's
  // completion (open_id) goes to *out either way.
  int CreateNsWithSocket(uint32_t open_id, uint32_t handle, const SocketOptions& o, std::vector<Completion>* out);
  // Sets up a fresh netlink socket and registers it; returns `task_id`'s completion (its port id, or the error).
  Completion Register(uint32_t task_id, uint32_t handle, int fd, const SocketOptions& o);
  void Close(uint32_t handle, int err);
  void SendBatch(Sock* s);
  int Receive(Sock* s, struct mmsghdr* msgs, struct iovec* iov);
  void Drain(Sock* s);
  void FailTruncated(Sock* s, const uint8_t* buf, size_t len);
  void DrainEvents(Sock* s);
  void Dispatch(Sock* s, const uint8_t* buf, size_t len);
  void Finish(Req* r);
  void Advance(const std::shared_ptr<Chain>& ch);
  void EndChain(const std::shared_ptr<Chain>& ch, int err);
  void AddToChain(Command& c);
  void FinishBatch(Sock* s, std::vector<Req*>& batch);
  void Complete(Completion c);
  void CompleteAll(std::vector<Completion> cs);
  void LearnSpin(int64_t gap);

  std::function<void()> notify_;
  std::thread thread_;
  int epfd_ = -1;
  int wakefd_ = -1;
  int home_ = -1;  // the I/O thread's own namespace

  std::mutex mu_;
  std::vector<Command> commands_;  // guarded by mu_
  bool sleeping_ = false;            // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  std::atomic<uint32_t> queued_{0};  // lock-free hint for the spin
  bool last_woke_ = false;           // written and read by the JS thread only

  std::mutex done_mu_;
  std::vector<Completion> done_;  // guarded by done_mu_
  bool notified_ = false;         // guarded by done_mu_

  // Owned by the I/O thread only.
  std::unordered_map<uint32_t, Sock*> socks_;
  std::vector<Sock*> busy_;  // sockets with requests waiting to be sent
  std::unordered_map<uint32_t, std::shared_ptr<Chain>> open_chains_;  // by key: chains with parts to come
  uint32_t next_seq_ = 1;
  std::vector<uint8_t> rxbuf_;
  int64_t spin_ns_ = 40'000;  // current post-work poll window
  int64_t avg_gap_ = 20'000;  // running average of the submit turnaround
};

}  // namespace netweave
