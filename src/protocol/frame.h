// The framed protocol shared by the extension and the worker daemon (and, later, the remote
// repository host over TLS): each frame is a 4-byte big-endian payload length followed by
// that many bytes of one JSON object. A frame larger than kMaxFrameSize, a payload that is not
// a JSON object, or a stream cut inside a frame is a ProtocolError — never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace backrest::protocol {

using Message = nlohmann::json;

constexpr uint32_t kVersion = 1;
constexpr size_t kMaxFrameSize = 1024 * 1024;

// Encodes one message as a frame (length prefix + JSON). Raises ProtocolError when too large.
std::string encodeFrame(const Message& message);

// Incremental decoder: feed bytes as they arrive, take complete messages out.
class FrameDecoder {
  public:
    void feed(std::string_view bytes);
    // The next complete message, or nullopt when more bytes are needed. Raises ProtocolError on
    // an oversized frame or a payload that is not a JSON object (the connection must be closed).
    std::optional<Message> next();
    // True when bytes of an incomplete frame are buffered (EOF now means a truncated frame).
    bool midFrame() const { return !buffer_.empty(); }

  private:
    std::string buffer_;
};

}  // namespace backrest::protocol
