#include "protocol/request_header.h"

#include <climits>

#include "base/assert.h"
#include "protocol/generated/api_catalog.h"

namespace cairn::protocol {

Result<RequestHeader> decode_request_header(Reader& r) {
  RequestHeader header;
  header.api_key = r.read_int16();
  header.api_version = r.read_int16();
  header.correlation_id = r.read_int32();
  header.client_id = r.read_nullable_string();  // int16 length even in header v2
  int version = request_header_version(header.api_key, header.api_version);
  header.header_version = version < 0 ? 1 : version;
  if (header.header_version == 2) r.skip_tagged_fields();
  if (!r.ok()) return error(StatusCode::corrupt, std::string("request header: ") + r.error());
  ASSERT(header.header_version == 1 || header.header_version == 2);
  return header;
}

void encode_request_header(Writer& w, const RequestHeader& header) {
  int version = request_header_version(header.api_key, header.api_version);
  ASSERT(version == 1 || version == 2);
  w.write_int16(header.api_key);
  w.write_int16(header.api_version);
  w.write_int32(header.correlation_id);
  w.write_nullable_string(header.client_id);
  if (version == 2) w.write_empty_tagged_fields();
}

void encode_response_header(Writer& w, const RequestHeader& request) {
  int version = response_header_version(request.api_key, request.api_version);
  ASSERT(version == 0 || version == 1);
  w.write_int32(request.correlation_id);
  if (version == 1) w.write_empty_tagged_fields();
}

Result<int32_t> decode_response_header(Reader& r, int16_t api_key, int16_t api_version) {
  int version = response_header_version(api_key, api_version);
  if (version < 0) return error(StatusCode::unsupported, "response header: unknown api key");
  int32_t correlation_id = r.read_int32();
  if (version == 1) r.skip_tagged_fields();
  if (!r.ok()) return error(StatusCode::corrupt, std::string("response header: ") + r.error());
  return correlation_id;
}

size_t begin_response_frame(Writer& w, const RequestHeader& request) {
  ASSERT(w.size() == 0);
  size_t size_at = w.reserve_int32();
  encode_response_header(w, request);
  return size_at;
}

void end_response_frame(Writer& w, size_t size_at) {
  ASSERT(w.size() >= size_at + 4);
  size_t size = w.size() - size_at - 4;
  ASSERT(size <= INT32_MAX);
  w.patch_int32(size_at, static_cast<int32_t>(size));
}

}  // namespace cairn::protocol
