#include "testing/fault_io.h"

#include <algorithm>

namespace cairn::testing {

using storage::File;
using storage::OpenMode;

struct FaultIo::Node {
  std::vector<uint8_t> data;
  std::vector<uint8_t> durable;
  bool entry_durable = false;
};

struct FaultIo::State {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Node>> files;
  std::map<std::string, bool> dirs;
  uint64_t generation = 0;  // bumped by power_loss: older handles are dead
  int64_t syncs_left = -1;  // -1: no failure planned
  bool syncs_failing = false;
  uint64_t capacity_bytes = UINT64_MAX;
  uint64_t bytes_read = 0;
  uint64_t sync_count = 0;

  uint64_t used_locked() const {
    uint64_t total = 0;
    for (const auto& [path, node] : files) total += node->data.size();
    return total;
  }
  bool take_sync_locked() {
    sync_count++;
    if (syncs_failing) return false;
    if (syncs_left == 0) {
      syncs_failing = true;
      return false;
    }
    if (syncs_left > 0) syncs_left--;
    return true;
  }
};

namespace {

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

class FaultFile final : public File {
 public:
  FaultFile(std::shared_ptr<FaultIo::State> state, std::shared_ptr<FaultIo::Node> node,
            std::string path)
      : state_(std::move(state)),
        node_(std::move(node)),
        path_(std::move(path)),
        generation_(state_->generation) {}

  Result<size_t> read_at(uint64_t position, std::span<uint8_t> out) override {
    std::lock_guard lock(state_->mu);
    RETURN_IF_ERROR(alive());
    const auto& data = node_->data;
    if (position >= data.size()) return size_t{0};
    size_t n = std::min<size_t>(out.size(), data.size() - position);
    std::copy_n(data.begin() + static_cast<long>(position), n, out.begin());
    state_->bytes_read += n;
    return n;
  }

  Status write_at(uint64_t position, std::span<const uint8_t> bytes) override {
    std::lock_guard lock(state_->mu);
    RETURN_IF_ERROR(alive());
    auto& data = node_->data;
    uint64_t end = position + bytes.size();
    size_t writable = bytes.size();
    bool short_write = false;
    if (end > data.size()) {
      uint64_t used = state_->used_locked();
      uint64_t growth = end - data.size();
      if (used + growth > state_->capacity_bytes) {
        uint64_t room = state_->capacity_bytes > used ? state_->capacity_bytes - used : 0;
        uint64_t limit_end = data.size() + room;
        writable = limit_end > position ? static_cast<size_t>(limit_end - position) : 0;
        writable = std::min(writable, bytes.size());
        short_write = true;
      }
    }
    if (position + writable > data.size()) data.resize(position + writable);
    std::copy_n(bytes.begin(), writable, data.begin() + static_cast<long>(position));
    if (short_write) return error(StatusCode::no_space, "FaultIo: no space for " + path_);
    return Status();
  }

  Status sync() override {
    std::lock_guard lock(state_->mu);
    RETURN_IF_ERROR(alive());
    if (!state_->take_sync_locked()) return error(StatusCode::io_error, "FaultIo: EIO " + path_);
    node_->durable = node_->data;
    return Status();
  }

  Result<uint64_t> size_bytes() override {
    std::lock_guard lock(state_->mu);
    RETURN_IF_ERROR(alive());
    return static_cast<uint64_t>(node_->data.size());
  }

  Status truncate(uint64_t size_bytes) override {
    std::lock_guard lock(state_->mu);
    RETURN_IF_ERROR(alive());
    node_->data.resize(size_bytes);
    return Status();
  }

  int fd() const override { return -1; }

 private:
  Status alive() const {
    if (generation_ != state_->generation) {
      return error(StatusCode::io_error, "FaultIo: handle from before a power loss");
    }
    return Status();
  }
  std::shared_ptr<FaultIo::State> state_;
  std::shared_ptr<FaultIo::Node> node_;
  std::string path_;
  uint64_t generation_;
};

}  // namespace

FaultIo::FaultIo() : state_(std::make_shared<State>()) {}
FaultIo::~FaultIo() = default;

Result<std::shared_ptr<File>> FaultIo::open(const std::string& path, OpenMode mode) {
  std::lock_guard lock(state_->mu);
  auto it = state_->files.find(path);
  if (it == state_->files.end()) {
    if (mode == OpenMode::read_only || mode == OpenMode::read_write) {
      return error(StatusCode::not_found, "FaultIo: no file " + path);
    }
    if (state_->dirs.count(parent_of(path)) == 0) {
      return error(StatusCode::not_found, "FaultIo: no directory for " + path);
    }
    it = state_->files.emplace(path, std::make_shared<Node>()).first;
  } else if (mode == OpenMode::create_truncate) {
    it->second->data.clear();
  }
  return std::shared_ptr<File>(std::make_shared<FaultFile>(state_, it->second, path));
}

Result<std::vector<std::string>> FaultIo::list_dir(const std::string& dir) {
  std::lock_guard lock(state_->mu);
  if (state_->dirs.count(dir) == 0) return error(StatusCode::not_found, "FaultIo: no " + dir);
  std::vector<std::string> names;
  for (const auto& [path, node] : state_->files) {
    if (parent_of(path) == dir) names.push_back(path.substr(dir.size() + 1));
  }
  return names;
}

Status FaultIo::make_dirs(const std::string& dir) {
  std::lock_guard lock(state_->mu);
  for (size_t i = 1; i <= dir.size(); i++) {
    if (i == dir.size() || dir[i] == '/') state_->dirs.emplace(dir.substr(0, i), true);
  }
  return Status();
}

Status FaultIo::remove(const std::string& path) {
  std::lock_guard lock(state_->mu);
  if (state_->files.erase(path) == 0) return error(StatusCode::not_found, "FaultIo: " + path);
  return Status();
}

Status FaultIo::remove_dir(const std::string& dir) {
  std::lock_guard lock(state_->mu);
  for (const auto& [path, node] : state_->files) {
    if (parent_of(path) == dir) return error(StatusCode::io_error, "FaultIo: not empty: " + dir);
  }
  if (state_->dirs.erase(dir) == 0) return error(StatusCode::not_found, "FaultIo: no " + dir);
  return Status();
}

Status FaultIo::rename(const std::string& source, const std::string& target) {
  std::lock_guard lock(state_->mu);
  auto it = state_->files.find(source);
  if (it == state_->files.end()) return error(StatusCode::not_found, "FaultIo: " + source);
  std::shared_ptr<Node> node = it->second;
  state_->files.erase(it);
  node->entry_durable = true;
  state_->files[target] = std::move(node);
  return Status();
}

Status FaultIo::sync_dir(const std::string& dir) {
  std::lock_guard lock(state_->mu);
  if (!state_->take_sync_locked()) return error(StatusCode::io_error, "FaultIo: EIO dir " + dir);
  for (auto& [path, node] : state_->files) {
    if (parent_of(path) == dir) node->entry_durable = true;
  }
  return Status();
}

Result<bool> FaultIo::exists(const std::string& path) {
  std::lock_guard lock(state_->mu);
  return state_->files.count(path) > 0 || state_->dirs.count(path) > 0;
}

void FaultIo::power_loss(uint64_t seed, bool torn) {
  std::lock_guard lock(state_->mu);
  std::mt19937_64 rng(seed);
  state_->generation++;
  for (auto it = state_->files.begin(); it != state_->files.end();) {
    Node& node = *it->second;
    if (!node.entry_durable) {
      it = state_->files.erase(it);
      continue;
    }
    std::vector<uint8_t> after = node.durable;
    if (torn && node.data.size() > node.durable.size()) {
      // Some of the unsynced tail reached the disk, possibly damaged.
      size_t extra = node.data.size() - node.durable.size();
      size_t keep = std::uniform_int_distribution<size_t>(0, extra)(rng);
      after.insert(after.end(), node.data.begin() + static_cast<long>(node.durable.size()),
                   node.data.begin() + static_cast<long>(node.durable.size() + keep));
      if (keep > 0 && rng() % 2 == 0) {
        // One 4 KiB page of the kept tail never reached the disk: it reads as zeros.
        constexpr size_t kPageBytes = 4096;
        size_t at = node.durable.size() + std::uniform_int_distribution<size_t>(0, keep - 1)(rng);
        size_t page = at / kPageBytes * kPageBytes;
        size_t from = std::max(page, node.durable.size());
        size_t to = std::min(page + kPageBytes, after.size());
        std::fill(after.begin() + static_cast<long>(from), after.begin() + static_cast<long>(to),
                  0);
      }
    }
    // A fresh process sees the same file, now with these contents, all of them durable.
    auto fresh = std::make_shared<Node>();
    fresh->data = after;
    fresh->durable = after;
    fresh->entry_durable = true;
    it->second = std::move(fresh);
    ++it;
  }
  state_->syncs_left = -1;
  state_->syncs_failing = false;
}

void FaultIo::fail_syncs_after(int64_t successful_syncs_left) {
  std::lock_guard lock(state_->mu);
  state_->syncs_left = successful_syncs_left;
  state_->syncs_failing = false;
}

void FaultIo::clear_sync_failure() {
  std::lock_guard lock(state_->mu);
  state_->syncs_left = -1;
  state_->syncs_failing = false;
}

void FaultIo::set_capacity_bytes(uint64_t capacity_bytes) {
  std::lock_guard lock(state_->mu);
  state_->capacity_bytes = capacity_bytes;
}

uint64_t FaultIo::used_bytes() {
  std::lock_guard lock(state_->mu);
  return state_->used_locked();
}

uint64_t FaultIo::bytes_read() {
  std::lock_guard lock(state_->mu);
  return state_->bytes_read;
}

uint64_t FaultIo::sync_count() {
  std::lock_guard lock(state_->mu);
  return state_->sync_count;
}

void FaultIo::reset_counters() {
  std::lock_guard lock(state_->mu);
  state_->bytes_read = 0;
  state_->sync_count = 0;
}

std::vector<uint8_t> FaultIo::contents(const std::string& path) {
  std::lock_guard lock(state_->mu);
  auto it = state_->files.find(path);
  if (it == state_->files.end()) return {};
  return it->second->data;
}

void FaultIo::corrupt(const std::string& path, uint64_t position, uint8_t xor_mask) {
  std::lock_guard lock(state_->mu);
  auto it = state_->files.find(path);
  ASSERT(it != state_->files.end());
  Node& node = *it->second;
  if (position < node.data.size()) node.data[position] ^= xor_mask;
  if (position < node.durable.size()) node.durable[position] ^= xor_mask;
}

void FaultIo::set_contents(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::lock_guard lock(state_->mu);
  auto it = state_->files.find(path);
  ASSERT(it != state_->files.end());
  it->second->data = bytes;
  it->second->durable = bytes;
}

}  // namespace cairn::testing
