// libFuzzer target for the legacy message set codec (magic 0/1): arbitrary bytes as a Produce
// v0-2 `records` field -> to_v2, with the CRC checked and (to reach the parser behind it) not.
//
// Invariants (ASSERT, so a violation is a crash the fuzzer reports):
//   - no crash, out-of-bounds access or undefined behaviour (ASan + UBSan), no allocation past
//     the decompression limit (libFuzzer's -malloc_limit_mb catches the rest);
//   - a conversion that succeeds gives one v2 batch that passes a Produce request's checks,
//     with as many records as messages converted, and no producer id;
//   - converting that batch back to magic 0 and magic 1 (what a Fetch v0-3 gets) and then to
//     v2 again gives the same number of records: nothing is lost or invented on the way.
#include <cstddef>
#include <cstdint>

#include "base/assert.h"
#include "base/units.h"
#include "protocol/legacy_records.h"
#include "protocol/record_batch.h"

namespace cairn::protocol::legacy {
namespace {

constexpr size_t kDecompressedBytesMax = 1 * MiB;

void check_converted(const ToV2& converted) {
  if (!converted.ok()) {
    ASSERT(converted.batch.empty());
    return;
  }
  BatchCheck check = validate_produce_records(converted.batch, 3, ValidateOptions{});
  ASSERT(check.ok());
  ASSERT(check.batch->records_count() == converted.messages);
  ASSERT(check.batch->producer_id().value() == -1);
  for (int8_t magic : {kMagicV0, kMagicV1}) {
    Result<FromV2> down = from_v2(converted.batch, magic, Offset(0), kDecompressedBytesMax, true,
                                  kDecompressedBytesMax);
    ASSERT(down.ok());
    ASSERT(down->messages == converted.messages);
    ToV2 again = to_v2(down->bytes, ToV2Options{true, kDecompressedBytesMax});
    ASSERT(again.ok());
    ASSERT(again.messages == converted.messages);
  }
}

}  // namespace
}  // namespace cairn::protocol::legacy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::protocol::legacy;
  cairn::protocol::BytesView bytes(data, size);
  check_converted(to_v2(bytes, ToV2Options{true, kDecompressedBytesMax}));
  check_converted(to_v2(bytes, ToV2Options{false, kDecompressedBytesMax}));
  return 0;
}
