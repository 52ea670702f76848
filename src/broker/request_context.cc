#include "broker/request_context.h"

namespace cairn::broker {

net::OutboundFrame to_outbound_frame(protocol::Frame frame) {
  net::OutboundFrame out;
  out.bytes = std::move(frame.bytes);
  out.splices.reserve(frame.splices.size());
  for (protocol::Splice& splice : frame.splices) {
    out.splices.push_back(net::FileSplice{
        splice.at, net::FileSlice{splice.range.fd, splice.range.offset, splice.range.size,
                                  std::move(splice.range.keepalive)}});
  }
  return out;
}

}  // namespace cairn::broker
