// libFuzzer target for request decoding: arbitrary bytes are a request frame body (request
// header + request body, as after the int32 size prefix). The header is decoded, then the
// request type its api_key names, at its api_version.
//
// Invariants (each checked with ASSERT, so a violation is a crash the fuzzer reports):
//   - no crash, out-of-bounds read or undefined behaviour, whatever the bytes (ASan + UBSan);
//   - bounded allocation: decoding allocates at most kAllocationFactor times the input size
//     plus kAllocationSlackBytes in total (counted by the operator new below), because every
//     array count is checked against the bytes left before anything is reserved;
//   - encode-decode is stable: a request that decodes re-encodes to bytes that decode again,
//     completely, to an equal request, which re-encodes to the same bytes. (The first
//     re-encoding may differ from the input: unknown tagged fields are dropped, bools become
//     0/1, tagged fields with default values are omitted.)
//
// Seeds: the golden frames real clients sent (testdata/golden) and one sample request per API,
// version and null-ness, written into the corpus by request_fuzz_seeds at build time.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <vector>

#include "base/assert.h"
#include "protocol/generated/testing/all_apis.h"
#include "protocol/request_header.h"

namespace {

// Counting is switched on only around the decode under test; libFuzzer is single-threaded.
bool counting_allocations = false;
size_t allocated_bytes = 0;

}  // namespace

// Every form of new/delete goes through malloc/free (which ASan still checks), so that all of
// them agree and the ones containers use are counted.
namespace {
void* counted_malloc(size_t size) {
  if (counting_allocations) allocated_bytes += size;
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(size_t size) {
  void* p = counted_malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return counted_malloc(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return counted_malloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace cairn::protocol {
namespace {

constexpr size_t kAllocationFactor = 64;
constexpr size_t kAllocationSlackBytes = 64 * 1024;

template <typename T>
void check_request(const RequestHeader& header, std::span<const uint8_t> body) {
  T request;
  Reader r(body);
  allocated_bytes = 0;
  counting_allocations = true;
  bool ok = request.decode(r, header.api_version);
  counting_allocations = false;
  ASSERT(allocated_bytes <= kAllocationFactor * body.size() + kAllocationSlackBytes);
  if (!ok) {
    ASSERT(!r.ok());
    return;
  }

  Writer first;
  request.encode(first, header.api_version);
  ASSERT(first.size() == first.buffer().size());  // decoded records are inline, no splices
  T again;
  Reader r2(first.buffer());
  ASSERT(again.decode(r2, header.api_version));
  ASSERT(r2.remaining() == 0);
  // AlterClientQuotas carries a float64, which may decode as NaN and then never equals itself:
  // for it, the byte-for-byte re-encoding below is the check.
  if constexpr (!std::is_same_v<T, AlterClientQuotasRequest>) ASSERT(again == request);
  Writer second;
  again.encode(second, header.api_version);
  ASSERT(second.buffer() == first.buffer());
}

}  // namespace
}  // namespace cairn::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::protocol;
  Reader r(std::span<const uint8_t>(data, size));
  cairn::Result<RequestHeader> header = decode_request_header(r);
  if (!header.ok()) return 0;
  std::span<const uint8_t> body(r.position(), r.remaining());
  switch (header->api_key) {
#define CAIRN_FUZZ_CASE(Name)                    \
  case Name##Request::kApiKey:                   \
    check_request<Name##Request>(*header, body); \
    break;
    CAIRN_FOR_EACH_GENERATED_API(CAIRN_FUZZ_CASE)
#undef CAIRN_FUZZ_CASE
    default:
      break;
  }
  return 0;
}
