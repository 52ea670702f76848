#include "broker/cluster_id.h"

#include <array>
#include <cstdint>
#include <random>

#include "base/assert.h"
#include "broker/meta_file.h"

namespace cairn::broker {
namespace {

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_no_padding(const std::array<uint8_t, 16>& bytes) {
  std::string out;
  uint32_t bits = 0;
  int bit_count = 0;
  for (uint8_t b : bytes) {
    bits = (bits << 8) | b;
    bit_count += 8;
    while (bit_count >= 6) {
      bit_count -= 6;
      out.push_back(kBase64Url[(bits >> bit_count) & 0x3f]);
    }
  }
  if (bit_count > 0) out.push_back(kBase64Url[(bits << (6 - bit_count)) & 0x3f]);
  return out;
}

}  // namespace

bool is_valid_cluster_id(std::string_view id) {
  if (id.size() != kClusterIdChars) return false;
  for (char c : id) {
    if (kBase64Url.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::string generate_cluster_id() {
  std::random_device random;
  std::array<uint8_t, 16> bytes;
  for (auto& b : bytes) b = static_cast<uint8_t>(random());
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // UUID version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // IETF variant
  std::string id = base64url_no_padding(bytes);
  ASSERT(is_valid_cluster_id(id));
  return id;
}

Result<std::string> load_or_create_cluster_id(const std::filesystem::path& meta_dir,
                                              storage::Io& io) {
  std::filesystem::path path = meta_dir / "cluster_id";
  Result<std::optional<std::string>> existing = read_meta_file(io, path, 1024);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    std::string id = **existing;
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
    if (!is_valid_cluster_id(id)) {
      return error(StatusCode::corrupt, path.string() + " does not hold a cluster id");
    }
    return id;
  }
  std::string id = generate_cluster_id();
  RETURN_IF_ERROR(write_meta_file(io, path, id + "\n"));
  return id;
}

}  // namespace cairn::broker
