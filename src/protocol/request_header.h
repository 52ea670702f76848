// Request and response headers, and the framing around them.
//
// A request frame body (after the int32 size prefix) is a request header and the request
// body. Header v1 is api_key, api_version, correlation_id and client_id (an int16-length
// nullable string, even in v2); v2 adds a tagged-field section. Which one a request uses
// depends on whether its (api_key, api_version) is flexible (api_catalog.h). Responses start
// with correlation_id (v0), plus tagged fields (v1) when flexible, except that ApiVersions
// responses always use v0 (KIP-511). Header v0 (ControlledShutdown v0 only) is not supported.
// Plain functions and values: any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace cairn::protocol {

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  // 1 or 2, from api_catalog.h; 1 for API keys Cairn does not know (their body is never
  // decoded, but the correlation id and client id are still useful for the error path).
  int header_version = 1;

  bool operator==(const RequestHeader&) const = default;
};

// Decodes the request header at the start of a frame body; `r` is then at the body.
// Returns a `corrupt` status on truncated or malformed input. An unknown api_key is not an
// error here (see RequestHeader::header_version): the caller decides what to answer.
Result<RequestHeader> decode_request_header(Reader& r);

// Encodes a request header (for clients and tests). Header version from api_catalog.h.
// REQUIRES: the api_key is in the catalog.
void encode_request_header(Writer& w, const RequestHeader& header);

// Encodes the response header for a response to `request`. REQUIRES: known api_key.
void encode_response_header(Writer& w, const RequestHeader& request);

// Decodes a response header (for clients and tests): returns the correlation id.
Result<int32_t> decode_response_header(Reader& r, int16_t api_key, int16_t api_version);

// Response framing: reserves the int32 size prefix and writes the response header; after the
// body is encoded, end_response_frame() fills in the size (which counts spliced file ranges).
// REQUIRES: `w` is empty when begin_response_frame is called.
size_t begin_response_frame(Writer& w, const RequestHeader& request);
void end_response_frame(Writer& w, size_t size_at);

}  // namespace cairn::protocol
