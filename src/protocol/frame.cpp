// Frame encoding and incremental decoding.
#include "protocol/frame.h"

#include "common/error.h"

namespace backrest::protocol {

std::string encodeFrame(const Message& message) {
    // Invalid UTF-8 (a file name in an error message, say) is replaced, never a failure to send.
    std::string payload = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (payload.size() > kMaxFrameSize)
        raise(ErrorCode::Protocol, "message of {} bytes exceeds the {} byte frame limit",
              payload.size(), kMaxFrameSize);
    uint32_t n = static_cast<uint32_t>(payload.size());
    std::string frame;
    frame.reserve(4 + payload.size());
    frame.push_back(static_cast<char>(n >> 24));
    frame.push_back(static_cast<char>(n >> 16));
    frame.push_back(static_cast<char>(n >> 8));
    frame.push_back(static_cast<char>(n));
    frame += payload;
    return frame;
}

void FrameDecoder::feed(std::string_view bytes) {
    buffer_.append(bytes);
}

std::optional<Message> FrameDecoder::next() {
    if (buffer_.size() < 4) return std::nullopt;
    auto byte = [&](size_t i) {
        return static_cast<uint32_t>(static_cast<unsigned char>(buffer_[i]));
    };
    uint32_t n = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
    if (n > kMaxFrameSize)
        raise(ErrorCode::Protocol, "frame of {} bytes exceeds the {} byte limit", n, kMaxFrameSize);
    if (buffer_.size() < 4 + static_cast<size_t>(n)) return std::nullopt;
    std::string payload = buffer_.substr(4, n);
    buffer_.erase(0, 4 + static_cast<size_t>(n));
    // JSON text never holds a raw NUL; a parser could stop there and drop the rest of the frame.
    if (payload.find('\0') != std::string::npos)
        raise(ErrorCode::Protocol, "frame payload holds a NUL byte ({} bytes)", n);
    Message message = Message::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded() || !message.is_object())
        raise(ErrorCode::Protocol, "frame payload is not a JSON object ({} bytes)", n);
    return message;
}

}  // namespace backrest::protocol
