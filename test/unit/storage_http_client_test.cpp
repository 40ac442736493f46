// The HTTP transport against a real (if tiny) server on 127.0.0.1: retries, status and headers
// as sent on the wire, errors naming the request.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "storage/http/http_client.h"
#include "test_support.h"

namespace backrest::test {
namespace {

// Answers each connection's requests with the next canned reply, keeping the connection open
// (as a keep-alive server does), and records the requests' text.
class CannedServer {
  public:
    explicit CannedServer(std::vector<std::string> replies) : replies_(std::move(replies)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        ::listen(fd_, 8);
        thread_ = std::thread([this] { serve(); });
    }
    ~CannedServer() {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    int port() const { return port_; }
    std::vector<std::string> requests;
    int connections = 0;

  private:
    void serve() {
        size_t next = 0;
        while (next < replies_.size()) {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            ++connections;
            std::string buffer;
            char chunk[4096];
            while (next < replies_.size()) {
                size_t end;
                while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
                    ssize_t n = ::read(c, chunk, sizeof chunk);
                    if (n <= 0) break;
                    buffer.append(chunk, static_cast<size_t>(n));
                }
                if (end == std::string::npos) break;
                size_t length = 0;
                if (auto p = buffer.find("Content-Length: "); p != std::string::npos && p < end)
                    length = std::stoul(buffer.substr(p + 16));
                while (buffer.size() < end + 4 + length) {
                    ssize_t n = ::read(c, chunk, sizeof chunk);
                    if (n <= 0) break;
                    buffer.append(chunk, static_cast<size_t>(n));
                }
                requests.push_back(buffer.substr(0, end + 4 + length));
                buffer.erase(0, end + 4 + length);
                const std::string& reply = replies_[next++];
                (void)!::write(c, reply.data(), reply.size());
                if (reply.find("Connection: close") != std::string::npos) break;
            }
            ::close(c);
        }
    }
    std::vector<std::string> replies_;
    int fd_ = -1;
    int port_ = 0;
    std::thread thread_;
};

std::string reply(int status, const std::string& body, const std::string& extra = "") {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

storage::http::ClientOptions fastRetries() {
    storage::http::ClientOptions o;
    o.attempts = 3;
    o.timeoutSeconds = 5;
    return o;
}

TEST(HttpClient, RetriesA503AndReturnsTheFinalReplyWithItsHeaders) {
    CannedServer server({reply(503, "slow down"), reply(200, "hello", "ETag: \"abc\"\r\n")});
    storage::http::Client client(fastRetries());
    int signatures = 0;
    auto r = client.perform(
        {.method = "GET",
         .url = "http://127.0.0.1:" + std::to_string(server.port()) + "/k",
         .headers = {{"x-amz-date", "20261205T000000Z"}},
         .what = "GET 's3://b/k'"},
        [&](storage::http::Request& req) {
            ++signatures;
            req.headers.push_back({"Authorization", "sig" + std::to_string(signatures)});
        });
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello");
    ASSERT_NE(r.header("etag"), nullptr);
    EXPECT_EQ(*r.header("etag"), "\"abc\"");
    EXPECT_EQ(signatures, 2);  // signed anew for the retry
    ASSERT_EQ(server.requests.size(), 2u);
    EXPECT_TRUE(has(server.requests[1], "Authorization: sig2"));
    // Headers curl would add unsigned are not sent.
    EXPECT_FALSE(has(server.requests[0], "Expect:"));
    EXPECT_FALSE(has(server.requests[0], "Accept:"));
    EXPECT_EQ(server.connections, 1);  // the connection was kept for the retry
}

TEST(HttpClient, PutSendsTheBodyExactlyAndNoContentTypeOfItsOwn) {
    CannedServer server({reply(200, "")});
    storage::http::Client client(fastRetries());
    std::string body("a\0b", 3);
    auto r = client.perform({.method = "PUT",
                             .url = "http://127.0.0.1:" + std::to_string(server.port()) + "/k",
                             .body = {reinterpret_cast<const uint8_t*>(body.data()), body.size()},
                             .what = "PUT 'k'"});
    EXPECT_EQ(r.status, 200);
    ASSERT_EQ(server.requests.size(), 1u);
    EXPECT_TRUE(server.requests[0].starts_with("PUT /k HTTP/1.1"));
    EXPECT_TRUE(has(server.requests[0], "Content-Length: 3"));
    EXPECT_FALSE(has(server.requests[0], "Content-Type"));
    EXPECT_TRUE(server.requests[0].ends_with(body));
}

TEST(HttpClient, ANonIdempotentRequestIsNotRepeated) {
    CannedServer server({reply(500, "oops")});
    storage::http::Client client(fastRetries());
    auto r =
        client.perform({.method = "POST",
                        .url = "http://127.0.0.1:" + std::to_string(server.port()) + "/k?uploads",
                        .what = "POST 'k'",
                        .idempotent = false});
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(server.requests.size(), 1u);
}

TEST(HttpClient, AServerThatIsNotThereIsANetworkErrorNamingTheRequestAfterEveryAttempt) {
    // A port nothing listens on: bind one, learn its number, close it.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    storage::http::Client client(fastRetries());
    auto e = errorOf([&] {
        client.perform(
            {.method = "GET",
             .url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/k?sig=SECRET",
             .what = "GET 's3://bucket/k'"});
    });
    EXPECT_EQ(e.code(), ErrorCode::Network);
    EXPECT_TRUE(has(e.what(), "GET 's3://bucket/k'")) << e.what();
    EXPECT_TRUE(has(e.what(), "after 3 attempts")) << e.what();
    EXPECT_FALSE(has(e.what(), "SECRET")) << e.what();
}

TEST(HttpClient, UriEncodeKeepsUnreservedAndOptionallySlashes) {
    EXPECT_EQ(storage::http::uriEncode("a b+c/d~e%", true), "a%20b%2Bc/d~e%25");
    EXPECT_EQ(storage::http::uriEncode("a/b", false), "a%2Fb");
    EXPECT_EQ(storage::http::uriEncode("\xc3\xa9", false), "%C3%A9");
}

}  // namespace
}  // namespace backrest::test
