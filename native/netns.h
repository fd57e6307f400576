// Network-namespace primitives. Every function that switches namespaces does
// so on the calling thread only and switches back before returning; if the
// switch back fails the process aborts, because a thread left in a foreign
// namespace would silently run later work in the wrong place.
#pragma once

#include <string>
#include <vector>

namespace netweave {

// Opens this thread's current network namespace (O_CLOEXEC). -errno on error.
int OpenThreadNetns();

// Runs fn() with the calling thread inside the namespace `nsfd` (no switch
// when nsfd < 0). `home` is an fd of the thread's own namespace. Returns
// fn()'s result, or -errno when the switch in fails.
template <class F>
int InNetns(int home, int nsfd, F&& fn);

// Creates an anonymous namespace, running inside() in it before switching
// back; returns an fd that keeps it alive.
template <class F>
int CreateNetns(int home, F&& inside);
// Creates /run/netns/<name> the way `ip netns add` does (shared mount
// propagation, bind mount of the new namespace). Returns an fd to it.
int CreateNamedNetns(int home, const std::string& name);
// `ip netns delete`: detach the bind mount and remove the file.
int DeleteNamedNetns(const std::string& name);
// Names under /run/netns (empty when the directory does not exist).
int ListNamedNetns(std::vector<std::string>* out);

// socket(domain, type, protocol) created inside the namespace.
int SocketInNetns(int home, int nsfd, int domain, int type, int protocol);
// Opens a file (a /proc/sys/net path) while inside the namespace, so the
// descriptor refers to that namespace's sysctl.
int OpenInNetns(int home, int nsfd, const std::string& path, int flags);

[[noreturn]] void RestoreFailed(int err);

}  // namespace netweave

#include <sched.h>
#include <errno.h>

namespace netweave {

template <class F>
int InNetns(int home, int nsfd, F&& fn) {
  if (nsfd < 0) return fn();
  if (setns(nsfd, CLONE_NEWNET) != 0) return -errno;
  int r = fn();
  int saved = errno;
  if (setns(home, CLONE_NEWNET) != 0) RestoreFailed(errno);
  errno = saved;
  return r;
}

template <class F>
int CreateNetns(int home, F&& inside) {
  if (unshare(CLONE_NEWNET) != 0) return -errno;
  int fd = OpenThreadNetns();
  if (fd >= 0) inside();
  if (setns(home, CLONE_NEWNET) != 0) RestoreFailed(errno);
  return fd;
}

}  // namespace netweave
