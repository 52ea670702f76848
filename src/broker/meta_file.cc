#include "broker/meta_file.h"

#include <algorithm>
#include <span>

namespace cairn::broker {

Result<std::optional<std::string>> read_meta_file(storage::Io& io,
                                                  const std::filesystem::path& path,
                                                  size_t bytes_max) {
  Result<std::shared_ptr<storage::File>> file =
      io.open(path.string(), storage::OpenMode::read_only);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::not_found) return std::optional<std::string>();
    return file.status();
  }
  Result<uint64_t> size = (*file)->size_bytes();
  if (!size.ok()) return size.status();
  if (*size > bytes_max) {
    return error(StatusCode::too_large,
                 path.string() + " is larger than " + std::to_string(bytes_max) + " bytes");
  }
  std::string contents(*size, '\0');
  std::span<uint8_t> out(reinterpret_cast<uint8_t*>(contents.data()), contents.size());
  Result<size_t> read = (*file)->read_at(0, out);
  if (!read.ok()) return read.status();
  contents.resize(*read);
  return std::optional<std::string>(std::move(contents));
}

Status write_meta_file(storage::Io& io, const std::filesystem::path& path,
                       std::string_view contents) {
  const std::string dir = path.parent_path().string();
  RETURN_IF_ERROR(io.make_dirs(dir));
  std::string temporary = path.string() + ".tmp";
  {
    Result<std::shared_ptr<storage::File>> file =
        io.open(temporary, storage::OpenMode::create_truncate);
    if (!file.ok()) return file.status();
    RETURN_IF_ERROR((*file)->write_at(
        0, std::span(reinterpret_cast<const uint8_t*>(contents.data()), contents.size())));
    RETURN_IF_ERROR((*file)->sync());
  }
  RETURN_IF_ERROR(io.rename(temporary, path.string()));
  return io.sync_dir(dir);
}

Status remove_flat_dir(storage::Io& io, const std::filesystem::path& dir, std::string_view last) {
  Result<bool> present = io.exists(dir.string());
  if (!present.ok()) return present.status();
  if (!*present) return Status();
  Result<std::vector<std::string>> names = io.list_dir(dir.string());
  if (!names.ok()) return names.status();
  auto last_file = std::stable_partition(names->begin(), names->end(),
                                         [last](const std::string& name) { return name != last; });
  for (auto it = names->begin(); it != last_file; ++it) {
    RETURN_IF_ERROR(io.remove((dir / *it).string()));
  }
  if (last_file != names->end()) {
    // The removals above are durable before `last` goes (unlinks may reach the disk in any
    // order otherwise).
    RETURN_IF_ERROR(io.sync_dir(dir.string()));
    RETURN_IF_ERROR(io.remove((dir / *last_file).string()));
  }
  RETURN_IF_ERROR(io.remove_dir(dir.string()));
  return io.sync_dir(dir.parent_path().string());
}

}  // namespace cairn::broker
