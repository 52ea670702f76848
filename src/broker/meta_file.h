// Small metadata files in the data directory (data/meta/*): read whole, replace atomically.
//
// A replace writes `path.tmp`, fsyncs it, renames it over `path` and fsyncs the directory, so
// after a crash the file holds either the old or the new contents, never a mix. Blocking
// calls: use them at startup or for rare metadata changes (topic creation), never per record.
// Any thread; callers serialize writes to the same path.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::broker {

// The contents of `path`, or nullopt if it does not exist. Files above `bytes_max` are an
// error (too_large): metadata files are small, a huge one is corruption or a mistake.
Result<std::optional<std::string>> read_meta_file(const std::filesystem::path& path,
                                                  size_t bytes_max);

// Replaces `path` with `contents` durably (see above). Creates the directory if missing.
Status write_meta_file(const std::filesystem::path& path, std::string_view contents);

}  // namespace cairn::broker
