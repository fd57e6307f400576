#include "netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace netweave {

namespace {
constexpr const char* kRunDir = "/run/netns";
}

void RestoreFailed(int err) {
  std::fprintf(stderr, "netweave: cannot switch thread back to its network namespace: %s\n",
               std::strerror(err));
  std::abort();
}

int OpenThreadNetns() {
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

// Same propagation handling as iproute2's netns_add: make /run/netns a shared
// mount point (turning it into a mount point first when it is not one), so a
// delete in one mount namespace unmounts the file everywhere.
static int PrepareRunDir() {
  if (mkdir(kRunDir, 0755) != 0 && errno != EEXIST) return -errno;
  bool made_mount = false;
  while (mount("", kRunDir, "none", MS_SHARED | MS_REC, nullptr) != 0) {
    if (errno != EINVAL || made_mount) return -errno;
    if (mount(kRunDir, kRunDir, "none", MS_BIND | MS_REC, nullptr) != 0) return -errno;
    made_mount = true;
  }
  return 0;
}

int CreateNamedNetns(int home, const std::string& name) {
  int err = PrepareRunDir();
  if (err < 0) return err;
  std::string path = std::string(kRunDir) + "/" + name;
  int placeholder = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (placeholder < 0) return -errno;
  close(placeholder);

  if (unshare(CLONE_NEWNET) != 0) {
    err = -errno;
    unlink(path.c_str());
    return err;
  }
  int fd = -1;
  if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
    err = -errno;
  } else {
    fd = OpenThreadNetns();
    if (fd < 0) err = fd;
  }
  if (setns(home, CLONE_NEWNET) != 0) RestoreFailed(errno);
  if (fd < 0) {
    umount2(path.c_str(), MNT_DETACH);
    unlink(path.c_str());
    return err;
  }
  return fd;
}

int DeleteNamedNetns(const std::string& name) {
  std::string path = std::string(kRunDir) + "/" + name;
  // Like iproute2: a failed unmount (not a mount point) is not fatal, the
  // unlink decides.
  umount2(path.c_str(), MNT_DETACH);
  if (unlink(path.c_str()) != 0) return -errno;
  return 0;
}

int ListNamedNetns(std::vector<std::string>* out) {
  DIR* dir = opendir(kRunDir);
  if (!dir) return errno == ENOENT ? 0 : -errno;
  while (struct dirent* e = readdir(dir)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    out->emplace_back(e->d_name);
  }
  closedir(dir);
  return 0;
}

int SocketInNetns(int home, int nsfd, int domain, int type, int protocol) {
  return InNetns(home, nsfd, [&] {
    int fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    return fd < 0 ? -errno : fd;
  });
}

int OpenInNetns(int home, int nsfd, const std::string& path, int flags) {
  return InNetns(home, nsfd, [&] {
    int fd = open(path.c_str(), flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
  });
}

}  // namespace netweave
