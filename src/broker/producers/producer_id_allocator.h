// ProducerIdAllocator: hands out producer ids (InitProducerId) that are unique across
// restarts, crashes included.
//
// Ids are taken from blocks reserved durably in DATA_DIR/meta/producer_ids, a text file
// holding the first id not yet reserved. Reserving a block rewrites that file (replace + fsync,
// meta_file.h) before any id of the block is handed out, so after a crash the next run starts
// past every id the previous run could have given away. Unused ids of a block are skipped,
// never reused.
//
// Thread safety: any thread; a mutex serializes allocate(). A call that reserves a new block
// blocks for the fsync (one in `block_size` calls; InitProducerId is rare).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>

#include "base/status.h"
#include "base/types.h"
#include "storage/io.h"

namespace cairn::broker::producers {

class ProducerIdAllocator {
 public:
  static constexpr int64_t kDefaultBlockSize = 1000;

  // Reads `meta_dir`/producer_ids (absent: ids start at 0) through `io`, which must outlive
  // the allocator. corrupt if it does not parse.
  static Result<std::unique_ptr<ProducerIdAllocator>> open(const std::filesystem::path& meta_dir,
                                                           storage::Io& io,
                                                           int64_t block_size = kDefaultBlockSize);

  // The next id. Errors: io_error / no_space when a block cannot be reserved (nothing is
  // handed out then), too_large when the id space is exhausted.
  Result<ProducerId> allocate();

 private:
  ProducerIdAllocator(storage::Io& io, std::filesystem::path path, int64_t first_unreserved,
                      int64_t block_size)
      : io_(io),
        path_(std::move(path)),
        next_(first_unreserved),
        block_end_(first_unreserved),
        block_size_(block_size) {}

  storage::Io& io_;
  const std::filesystem::path path_;
  std::mutex mu_;
  int64_t next_;       // guarded by mu_
  int64_t block_end_;  // guarded by mu_: ids in [next_, block_end_) are reserved and unused
  const int64_t block_size_;
};

}  // namespace cairn::broker::producers
