// Strong types for ids, offsets and times, so that an Offset never silently becomes a
// PartitionId. One offset space: the Kafka offset is the log offset. Plain values; any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace cairn {

// A named wrapper around an integer. Arithmetic is explicit: take .value(), compute, wrap.
template <typename Tag, typename Rep>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep value) : value_(value) {}
  constexpr Rep value() const { return value_; }
  constexpr auto operator<=>(const StrongInt&) const = default;

 private:
  Rep value_{};
};

// The position of a record in a partition's log (Kafka offset).
using Offset = StrongInt<struct OffsetTag, int64_t>;
using PartitionId = StrongInt<struct PartitionIdTag, int32_t>;
using NodeId = StrongInt<struct NodeIdTag, int32_t>;
using ProducerId = StrongInt<struct ProducerIdTag, int64_t>;
using ProducerEpoch = StrongInt<struct ProducerEpochTag, int16_t>;
using Sequence = StrongInt<struct SequenceTag, int32_t>;
using LeaderEpoch = StrongInt<struct LeaderEpochTag, int32_t>;
using CorrelationId = StrongInt<struct CorrelationIdTag, int32_t>;
// Milliseconds since the Unix epoch, as Kafka record timestamps are.
using TimestampMs = StrongInt<struct TimestampMsTag, int64_t>;

inline constexpr Offset next(Offset offset) { return Offset(offset.value() + 1); }

}  // namespace cairn

template <typename Tag, typename Rep>
struct std::hash<cairn::StrongInt<Tag, Rep>> {
  size_t operator()(const cairn::StrongInt<Tag, Rep>& v) const noexcept {
    return std::hash<Rep>()(v.value());
  }
};
