// The JS boundary: a flat table of functions over integer handles (see
// src/native.ts for the typed view). Arguments are validated in TypeScript;
// this file only converts them. Results come back through one callback,
// onComplete(kind, id, errno, value, data), from the engine's thread via a
// thread-safe function.
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include <napi.h>

#include "engine.h"
#include "netns.h"

namespace netweave {
namespace {

constexpr size_t kCopyLimit = 16 << 10;
constexpr size_t kMaxPerDelivery = 32;

struct Addon;
void CallJs(Napi::Env env, Napi::Function, Addon* addon, void*);
using Tsfn = Napi::TypedThreadSafeFunction<Addon, void, CallJs>;

struct Addon {
  std::unique_ptr<Engine> engine;
  Tsfn tsfn;
  Napi::FunctionReference on_complete;
  // [kind, id, errno, value] per completion of a delivery, reused: JS reads
  // it during the call and keeps nothing of it.
  Napi::Reference<Napi::Float64Array> meta;
  double* meta_data = nullptr;
  uint32_t next_handle = 1;
  // Requests and tasks in flight plus holds (event subscribers that keep the
  // process alive). While > 0 the thread-safe function is ref'd.
  int64_t active = 0;
  bool stopped = false;

  void Acquire(napi_env env) {
    if (active++ == 0 && !stopped) napi_ref_threadsafe_function(env, tsfn);
  }
  void Drop(napi_env env) {
    if (--active == 0 && !stopped) napi_unref_threadsafe_function(env, tsfn);
  }
};

// Raw N-API here, not node-addon-api's wrappers: while a worker is being
// terminated every call may fail, and the wrappers turn a failure into a
// fatal error. A failed call just means the environment is going away.
void CallJs(Napi::Env env, Napi::Function, Addon* addon, void*) {
  if (env == nullptr || addon->stopped) return;
  bool more;
  std::vector<Completion> done = addon->engine->TakeCompletions(kMaxPerDelivery, &more);
  // Promise continuations run after this returns, all in one go: delivering
  // a bounded slice per turn keeps a burst of completions from stalling the
  // event loop. The rest comes on the next turn.
  if (more) addon->tsfn.NonBlockingCall();
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    for (const Completion& c : done) CloseOwned(c);
    return;
  }
  // One call into JS for the whole slice: onComplete(meta, count, data),
  // meta holding [kind, id, errno, value] per completion, data the one
  // completion's data (or undefined) when count is 1, else an array of them
  // (holes where none). Each completion separately cost four values and a
  // call into JS apiece; a chain's come in one delivery.
  napi_value cb, recv, meta, count, datas = nullptr;
  size_t n = done.size();
  bool ok = n > 0 && napi_get_reference_value(env, addon->on_complete, &cb) == napi_ok && cb != nullptr &&
            napi_get_undefined(env, &recv) == napi_ok && napi_get_reference_value(env, addon->meta, &meta) == napi_ok &&
            napi_create_uint32(env, uint32_t(n), &count) == napi_ok;
  if (ok && n > 1) ok = napi_create_array_with_length(env, n, &datas) == napi_ok;
  if (ok && n == 1) ok = napi_get_undefined(env, &datas) == napi_ok;
  for (size_t i = 0; ok && i < n; i++) {
    Completion& c = done[i];
    if (c.kind == Completion::kRequest || c.kind == Completion::kTask) addon->Drop(env);
    double* m = addon->meta_data + 4 * i;
    m[0] = c.kind;
    m[1] = c.id;
    m[2] = c.err;
    m[3] = double(c.value);
    if (c.data.empty()) continue;
    napi_value buf;
    if (c.data.size() <= kCopyLimit) {
      // Small replies are copied: cheaper than an external buffer, whose
      // finalizer costs the GC more than the copy does.
      void* copy;
      ok = napi_create_buffer_copy(env, c.data.size(), c.data.data(), &copy, &buf) == napi_ok;
    } else {
      auto* bytes = new std::vector<uint8_t>(std::move(c.data));
      ok = napi_create_external_buffer(
               env, bytes->size(), bytes->data(),
               [](napi_env, void*, void* hint) { delete static_cast<std::vector<uint8_t>*>(hint); }, bytes,
               &buf) == napi_ok;
      if (!ok) {
        // Runtimes that forbid external buffers: copy instead.
        void* copy;
        ok = napi_create_buffer_copy(env, bytes->size(), bytes->data(), &copy, &buf) == napi_ok;
        delete bytes;
      }
    }
    if (!ok) break;
    if (n == 1) datas = buf;
    else ok = napi_set_element(env, datas, uint32_t(i), buf) == napi_ok;
  }
  if (ok) {
    napi_value argv[3] = {meta, count, datas};
    napi_value result;
    // Errors of the handlers JS calls are rethrown by JS on a later tick (see src/engine.ts).
    (void)napi_call_function(env, recv, cb, 3, argv, &result);
  } else {
    // The environment is going away: JS never sees these, nor closes what they hand over.
    for (const Completion& c : done) CloseOwned(c);
  }
  napi_close_handle_scope(env, scope);
}

Addon* Get(const Napi::CallbackInfo& info) { return info.Env().GetInstanceData<Addon>(); }

Addon* Ready(const Napi::CallbackInfo& info) {
  Addon* a = Get(info);
  if (!a || !a->engine) {
    Napi::Error::New(info.Env(), "netweave native engine is not initialised").ThrowAsJavaScriptException();
    return nullptr;
  }
  return a;
}

uint32_t U32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }
int32_t I32(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }

std::vector<uint8_t> Bytes(const Napi::Value& v) {
  auto a = v.As<Napi::Uint8Array>();
  return std::vector<uint8_t>(a.Data(), a.Data() + a.ByteLength());
}

// Duplicates a namespace fd the caller holds, so closing it in JS while a
// task is queued cannot pull it away. -1 stays -1.
int DupNs(int fd) {
  if (fd < 0) return -1;
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return d < 0 ? -errno : d;
}

// An fd a task owns (-1: none): closed when the task is destroyed, whether
// it ran or was dropped because the environment stopped first.
std::shared_ptr<int> OwnedFd(int fd) {
  return std::shared_ptr<int>(new int(fd), [](int* p) {
    if (*p >= 0) close(*p);
    delete p;
  });
}

// The task owns the namespace fd (a duplicate).
template <class F>
Task InNs(int nsfd, F fn) {
  auto owned = OwnedFd(nsfd);
  return [owned, fn](int home, std::vector<uint8_t>* out) -> int64_t { return fn(home, *owned, out); };
}

// init(onComplete): onComplete(meta, count, data) per delivery (see CallJs)
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = Get(info);
  if (a->engine) return env.Undefined();
  a->on_complete = Napi::Persistent(info[0].As<Napi::Function>());
  auto meta = Napi::Float64Array::New(env, kMaxPerDelivery * 4);
  a->meta_data = meta.Data();
  a->meta = Napi::Persistent(meta);
  a->tsfn = Tsfn::New(env, "netweave", 0, 1, a);
  a->tsfn.Unref(env);
  a->engine = std::make_unique<Engine>([a] { a->tsfn.NonBlockingCall(); });
  int err = a->engine->Start();
  if (err < 0) {
    a->engine.reset();
    return Napi::Number::New(env, err);
  }
  env.AddCleanupHook([a] {
    a->engine->Stop();
    a->stopped = true;
    a->tsfn.Release();
  });
  return Napi::Number::New(env, 0);
}

// openSocket(taskId, protocol, nsfd, groups: number[], rcvbuf) -> handle
Napi::Value OpenSocket(const Napi::CallbackInfo& info) {
  Addon* a = Ready(info);
  if (!a) return info.Env().Undefined();
  SocketOptions o;
  o.protocol = I32(info[1]);
  o.nsfd = DupNs(I32(info[2]));
  if (o.nsfd < -1) return Napi::Number::New(info.Env(), o.nsfd);
  auto groups = info[3].As<Napi::Array>();
  for (uint32_t i = 0; i < groups.Length(); i++) o.groups.push_back(U32(groups.Get(i)));
  o.rcvbuf = I32(info[4]);
  uint32_t handle = a->next_handle++;
  a->Acquire(info.Env());
  a->engine->OpenSocket(U32(info[0]), handle, std::move(o));
  return Napi::Number::New(info.Env(), handle);
}

// request(handle, id, bytes, flags)
Napi::Value Request(const Napi::CallbackInfo& info) {
  Addon* a = Ready(info);
  if (!a) return info.Env().Undefined();
  a->Acquire(info.Env());
  a->engine->Request(U32(info[0]), U32(info[1]), Bytes(info[2]), U32(info[3]));
  return info.Env().Undefined();
}

// bind() to address:port (a numeric IPv4/IPv6 address); 0 or -errno.
int BindTo(int fd, int family, const std::string& address, uint16_t port, bool reuse) {
  if (reuse) {
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  int r;
  if (family == AF_INET6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    if (inet_pton(AF_INET6, address.c_str(), &sa.sin6_addr) != 1) return -EINVAL;
    r = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return -EINVAL;
    r = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  }
  return r < 0 ? -errno : 0;
}

// A bind probe: -errno of the socket or the bind, 0 when the port is free.
// On a socket made in the namespace earlier (`spare`, the probe's to
// close): no namespace switch and no socket to make, ~4.5 µs against ~11 µs
// here. Without one (spare < 0) the probe makes its socket in the
// namespace, and `make` more while it is there: their fds go to `out`
// (int32 each), spares for later probes, whatever the probe's outcome.
int64_t ProbeBind(int home, int nsfd, int spare, int make, int family, int type, const std::string& address, uint16_t port, bool reuse,
                  std::vector<uint8_t>* out) {
  if (spare >= 0) {
    int r = BindTo(spare, family, address, port, reuse);
    close(spare);
    return r;
  }
  std::vector<int32_t> fds;
  int first = InNetns(home, nsfd, [&] {
    int fd = socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    for (int i = 0; i < make; i++) {
      int more = socket(family, type | SOCK_CLOEXEC, 0);
      if (more < 0) break;
      fds.push_back(more);
    }
    return fd;
  });
  if (first < 0) return first;
  out->resize(fds.size() * sizeof(int32_t));
  if (!fds.empty()) std::memcpy(out->data(), fds.data(), out->size());
  int r = BindTo(first, family, address, port, reuse);
  close(first);
  return r;
}

// The kinds of a chain's task steps ([kind, ...args] from JS).
constexpr uint32_t kChainBindProbe = 1;
constexpr uint32_t kChainNamespace = 2;

// The task of a chain's task step, from its description: [kind, ...args].
//   kChainBindProbe: [1, nsfd, family, type, address, port, reuse, spare, make]
//   — a bind probe (see ProbeBind) that fails the chain with the
//   bind's errno; the task owns `spare` (a socket fd, or -1) from here on.
// Returns 0, or -errno (EINVAL: an unknown kind).
int ChainTaskOf(const Napi::Array& d, Task* out) {
  if (U32(d.Get(0u)) != kChainBindProbe) return -EINVAL;
  int family = I32(d.Get(2u)), type = I32(d.Get(3u));
  std::string address = d.Get(4u).As<Napi::String>();
  uint16_t port = uint16_t(U32(d.Get(5u)));
  bool reuse = d.Get(6u).As<Napi::Boolean>().Value();
  auto spare = OwnedFd(I32(d.Get(7u)));
  int make = std::max(0, std::min(64, I32(d.Get(8u))));
  // A probe on a spare socket never enters the namespace: no duplicate of its fd to make and close.
  int nsfd = *spare >= 0 ? -1 : DupNs(I32(d.Get(1u)));
  if (nsfd < -1) return nsfd;
  *out = InNs(nsfd, [=](int home, int fd, std::vector<uint8_t>* data) -> int64_t {
    int s = *spare;
    *spare = -1;  // ProbeBind closes it
    return ProbeBind(home, fd, s, make, family, type, address, port, reuse, data);
  });
  return 0;
}

// requestChain(meta: Uint32Array [handle, id, flags]*, payloads: (bytes | task)[], patches: Uint32Array [step, from, msgType, attr, field, target]*, part?, key?, base?)
// patches: flat groups of six — step, from, msgType, attr, field, target.
// part (Engine::ChainPart, default whole), key: a chain sent in parts;
// base: how many steps earlier parts had (patches number steps in the whole chain).
Napi::Value RequestChain(const Napi::CallbackInfo& info) {
  Addon* a = Ready(info);
  if (!a) return info.Env().Undefined();
  auto meta = info[0].As<Napi::Uint32Array>();
  auto payloads = info[1].As<Napi::Array>();
  auto flat = info[2].As<Napi::Uint32Array>();
  size_t n = meta.ElementLength() / 3;
  if (payloads.Length() != n) {
    Napi::TypeError::New(info.Env(), "requestChain: one payload per step").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::vector<ChainStep> steps(n);
  // A chain refused here runs nothing: the spare sockets its later bind
  // probes were handed are closed (the earlier ones' with their tasks).
  auto refuse = [&](uint32_t from) {
    for (uint32_t j = from; j < n; j++) {
      Napi::Value what = payloads.Get(j);
      if (what.IsTypedArray()) continue;
      auto d = what.As<Napi::Array>();
      if (U32(d.Get(0u)) == kChainBindProbe && I32(d.Get(7u)) >= 0) close(I32(d.Get(7u)));
    }
    return info.Env().Undefined();
  };
  uint32_t part = info.Length() > 3 ? U32(info[3]) : uint32_t(Engine::kChainWhole);
  uint32_t key = info.Length() > 4 ? U32(info[4]) : 0;
  uint32_t base = info.Length() > 5 ? U32(info[5]) : 0;
  if (part > Engine::kChainLast || (part != Engine::kChainWhole && !key) || (part <= Engine::kChainOpen && base)) {
    Napi::TypeError::New(info.Env(), "requestChain: bad part").ThrowAsJavaScriptException();
    return refuse(0);
  }
  for (uint32_t i = 0; i < n; i++) {
    steps[i].handle = meta[3 * i];
    steps[i].id = meta[3 * i + 1];
    steps[i].flags = meta[3 * i + 2];
    Napi::Value what = payloads.Get(i);
    if (what.IsTypedArray()) {
      steps[i].data = Bytes(what);
    } else if (U32(what.As<Napi::Array>().Get(0u)) == kChainNamespace) {
      // [2, openTaskId, protocol]: a new namespace, and a socket inside it registered as the step's handle.
      auto d = what.As<Napi::Array>();
      steps[i].open_id = U32(d.Get(1u));
      steps[i].protocol = I32(d.Get(2u));
      if (!steps[i].open_id) {
        Napi::TypeError::New(info.Env(), "requestChain: a namespace step needs a task id for its socket").ThrowAsJavaScriptException();
        return refuse(i + 1);
      }
    } else {
      int r = ChainTaskOf(what.As<Napi::Array>(), &steps[i].task);
      steps[i].owns = Completion::kOwnsDataFds;  // the spare sockets a probe made ahead
      if (r < 0) {
        Napi::Error e = Napi::Error::New(info.Env(), "requestChain: a task step could not be made");
        e.Set("errno", Napi::Number::New(info.Env(), -r));
        e.ThrowAsJavaScriptException();
        return refuse(i + 1);
      }
    }
  }
  for (size_t i = 0; i + 6 <= flat.ElementLength(); i += 6) {
    uint32_t step = flat[i] - base;
    if (flat[i] < base || step >= steps.size()) continue;
    ChainPatch p;
    p.from = uint16_t(flat[i + 1]);
    p.msg_type = uint16_t(flat[i + 2]);
    p.attr = uint16_t(flat[i + 3]);
    p.field = uint16_t(flat[i + 4]);
    p.target = flat[i + 5];
    steps[step].patches.push_back(p);
  }
  for (size_t i = 0; i < steps.size(); i++) {
    a->Acquire(info.Env());
    if (steps[i].open_id) a->Acquire(info.Env());  // its socket's completion
  }
  a->engine->RequestChain(std::move(steps), Engine::ChainPart(part), key);
  return info.Env().Undefined();
}

// reserveHandle() -> a socket handle for a socket a chain's namespace step opens.
Napi::Value ReserveHandle(const Napi::CallbackInfo& info) {
  Addon* a = Ready(info);
  if (!a) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), a->next_handle++);
}

// woke() -> whether the last submission had to wake the engine thread.
Napi::Value Woke(const Napi::CallbackInfo& info) {
  Addon* a = Get(info);
  return Napi::Boolean::New(info.Env(), a && a->engine && a->engine->LastSubmitWoke());
}

// yieldCpu(): sched_yield, from the event loop's poll turns (see src/engine.ts).
Napi::Value YieldCpu(const Napi::CallbackInfo& info) {
  sched_yield();
  return info.Env().Undefined();
}

Napi::Value CloseSocket(const Napi::CallbackInfo& info) {
  Addon* a = Ready(info);
  if (a) a->engine->CloseSocket(U32(info[0]));
  return info.Env().Undefined();
}

Napi::Value Hold(const Napi::CallbackInfo& info) {
  Addon* a = Ready(info);
  if (a) a->Acquire(info.Env());
  return info.Env().Undefined();
}

Napi::Value Release(const Napi::CallbackInfo& info) {
  Addon* a = Ready(info);
  if (a) a->Drop(info.Env());
  return info.Env().Undefined();
}

// `owns`: what the task's result hands to JS (Completion::Owns).
void Submit(const Napi::CallbackInfo& info, Task task, Completion::Owns owns = Completion::kOwnsNone) {
  Addon* a = Ready(info);
  if (!a) return;
  a->Acquire(info.Env());
  a->engine->RunTask(U32(info[0]), std::move(task), owns);
}

// A task that works inside a namespace given by a JS-held fd.
template <class F>
Napi::Value NsTask(const Napi::CallbackInfo& info, int nsfd_arg, F fn, Completion::Owns owns = Completion::kOwnsNone) {
  int nsfd = DupNs(I32(info[nsfd_arg]));
  if (nsfd < -1) return Napi::Number::New(info.Env(), nsfd);
  Submit(info, InNs(nsfd, fn), owns);
  return Napi::Number::New(info.Env(), 0);
}

// netnsCreateWithSocket(id, openTaskId, protocol) -> socket handle. Task id
// completes with the namespace's fd, openTaskId like openSocket's.
Napi::Value NetnsCreateWithSocket(const Napi::CallbackInfo& info) {
  Addon* a = Ready(info);
  if (!a) return info.Env().Undefined();
  SocketOptions o;
  o.protocol = I32(info[2]);
  uint32_t handle = a->next_handle++;
  a->Acquire(info.Env());
  a->Acquire(info.Env());
  a->engine->CreateNetnsWithSocket(U32(info[0]), U32(info[1]), handle, std::move(o));
  return Napi::Number::New(info.Env(), handle);
}

// netnsCreateNamed(id, name) -> fd
Napi::Value NetnsCreateNamed(const Napi::CallbackInfo& info) {
  std::string name = info[1].As<Napi::String>();
  Submit(info, [name](int home, std::vector<uint8_t>*) -> int64_t { return CreateNamedNetns(home, name); }, Completion::kOwnsValueFd);
  return info.Env().Undefined();
}

// netnsDelete(id, name)
Napi::Value NetnsDelete(const Napi::CallbackInfo& info) {
  std::string name = info[1].As<Napi::String>();
  Submit(info, [name](int, std::vector<uint8_t>*) -> int64_t { return DeleteNamedNetns(name); });
  return info.Env().Undefined();
}

// socketInNetns(id, nsfd, domain, type, protocol) -> fd
Napi::Value SocketInNs(const Napi::CallbackInfo& info) {
  int domain = I32(info[2]), type = I32(info[3]), protocol = I32(info[4]);
  return NsTask(
      info, 1, [=](int home, int nsfd, std::vector<uint8_t>*) -> int64_t { return SocketInNetns(home, nsfd, domain, type, protocol); },
      Completion::kOwnsValueFd);
}

// sysctlRead(id, nsfd, path) -> data
Napi::Value SysctlRead(const Napi::CallbackInfo& info) {
  std::string path = info[2].As<Napi::String>();
  return NsTask(info, 1, [path](int home, int nsfd, std::vector<uint8_t>* out) -> int64_t {
    int fd = OpenInNetns(home, nsfd, path, O_RDONLY);
    if (fd < 0) return fd;
    out->resize(4096);
    ssize_t n = read(fd, out->data(), out->size());
    int err = errno;
    close(fd);
    if (n < 0) return -err;
    out->resize(size_t(n));
    return n;
  });
}

// tuntapCreate(id, nsfd, name, flags, owner, group): `ip tuntap add`. The
// device belongs to the namespace /dev/net/tun was opened in; it is made
// persistent, so it outlives the descriptor, which is closed. A name already
// in use is EEXIST (TUNSETIFF would attach to an existing tun instead).
Napi::Value TuntapCreate(const Napi::CallbackInfo& info) {
  std::string name = info[2].As<Napi::String>();
  int flags = I32(info[3]);
  int64_t owner = info[4].As<Napi::Number>().Int64Value();
  int64_t group = info[5].As<Napi::Number>().Int64Value();
  return NsTask(info, 1, [=](int home, int nsfd, std::vector<uint8_t>*) -> int64_t {
    return InNetns(home, nsfd, [&]() -> int {
      if (if_nametoindex(name.c_str()) != 0) return -EEXIST;
      int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
      if (fd < 0) return -errno;
      ifreq ifr{};
      std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
      ifr.ifr_flags = short(flags);
      int err = 0;
      if (ioctl(fd, TUNSETIFF, &ifr) != 0) err = -errno;
      if (!err && owner >= 0 && ioctl(fd, TUNSETOWNER, static_cast<unsigned long>(owner)) != 0) err = -errno;
      if (!err && group >= 0 && ioctl(fd, TUNSETGROUP, static_cast<unsigned long>(group)) != 0) err = -errno;
      if (!err && ioctl(fd, TUNSETPERSIST, 1UL) != 0) err = -errno;
      close(fd);  // on failure the device was never persistent: it goes with the descriptor
      return err;
    });
  });
}

// sysctlWrite(id, nsfd, path, bytes)
Napi::Value SysctlWrite(const Napi::CallbackInfo& info) {
  std::string path = info[2].As<Napi::String>();
  std::vector<uint8_t> value = Bytes(info[3]);
  return NsTask(info, 1, [path, value](int home, int nsfd, std::vector<uint8_t>*) -> int64_t {
    int fd = OpenInNetns(home, nsfd, path, O_WRONLY);
    if (fd < 0) return fd;
    ssize_t n = write(fd, value.data(), value.size());
    int err = errno;
    close(fd);
    return n < 0 ? -err : 0;
  });
}

// Synchronous, no namespace switch: open(2) of an nsfs file, close, list.
Napi::Value NetnsOpen(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  return Napi::Number::New(info.Env(), fd < 0 ? -errno : fd);
}

Napi::Value NetnsList(const Napi::CallbackInfo& info) {
  std::vector<std::string> names;
  int err = ListNamedNetns(&names);
  if (err < 0) return Napi::Number::New(info.Env(), err);
  auto arr = Napi::Array::New(info.Env(), names.size());
  for (uint32_t i = 0; i < names.size(); i++) arr.Set(i, names[i]);
  return arr;
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int r = close(I32(info[0]));
  return Napi::Number::New(info.Env(), r < 0 ? -errno : 0);
}

// fdIdentity(fd) -> [dev, ino]: equal pairs mean the same namespace.
Napi::Value FdIdentity(const Napi::CallbackInfo& info) {
  struct stat st;
  if (fstat(I32(info[0]), &st) != 0) return Napi::Number::New(info.Env(), -errno);
  auto arr = Napi::Array::New(info.Env(), 2);
  arr.Set(0u, Napi::Number::New(info.Env(), double(st.st_dev)));
  arr.Set(1u, Napi::Number::New(info.Env(), double(st.st_ino)));
  return arr;
}

// bind(fd, family, address, port, reuseAddress) -> 0 | -errno: binds a
// socket made by socketInNetns before Node adopts it (Node cannot bind an
// adopted TCP fd).
Napi::Value Bind(const Napi::CallbackInfo& info) {
  std::string address = info[2].As<Napi::String>();
  int r = BindTo(I32(info[0]), I32(info[1]), address, uint16_t(U32(info[3])), info[4].As<Napi::Boolean>().Value());
  return Napi::Number::New(info.Env(), r);
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = Get(info);
  auto o = Napi::Object::New(env);
  if (!a || !a->engine) return o;
  Engine::Stats& s = a->engine->stats;
  o.Set("sendmsgs", double(s.sendmsgs.load()));
  o.Set("requests", double(s.requests.load()));
  o.Set("dumpRetries", double(s.dump_retries.load()));
  o.Set("active", double(a->active));
  return o;
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new Addon());
  struct Fn {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  const Fn fns[] = {
      {"init", Init},
      {"openSocket", OpenSocket},
      {"request", Request},
      {"requestChain", RequestChain},
      {"reserveHandle", ReserveHandle},
      {"woke", Woke},
      {"yieldCpu", YieldCpu},
      {"closeSocket", CloseSocket},
      {"hold", Hold},
      {"release", Release},
      {"netnsCreateWithSocket", NetnsCreateWithSocket},
      {"netnsCreateNamed", NetnsCreateNamed},
      {"netnsDelete", NetnsDelete},
      {"socketInNetns", SocketInNs},
      {"sysctlRead", SysctlRead},
      {"sysctlWrite", SysctlWrite},
      {"tuntapCreate", TuntapCreate},
      {"netnsOpen", NetnsOpen},
      {"netnsList", NetnsList},
      {"closeFd", CloseFd},
      {"fdIdentity", FdIdentity},
      {"bind", Bind},
      {"stats", Stats},
  };
  for (const Fn& f : fns) exports.Set(f.name, Napi::Function::New(env, f.fn, f.name));
  return exports;
}

}  // namespace
}  // namespace netweave

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return netweave::Module(env, exports); }
NODE_API_MODULE(netweave, InitModule)
