// The metrics endpoint (worker/metrics_http.cpp): request parsing with its bounds, the answers,
// metrics-listen's values, and a real socket: a scrape, a 404, a request too large and a client
// too slow.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"
#include "worker/metrics_http.h"

namespace backrest::cmd {
namespace {

using State = HttpRequest::State;

TEST(MetricsHttp, ARequestIsCompleteAtTheBlankLine) {
    EXPECT_EQ(parseHttpRequest("").state, State::Incomplete);
    EXPECT_EQ(parseHttpRequest("GET /metrics HTTP/1.1\r\nHost: x\r\n").state, State::Incomplete);
    HttpRequest r = parseHttpRequest("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.state, State::Complete);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/metrics");
    EXPECT_EQ(parseHttpRequest("GET /metrics HTTP/1.0\n\n").state, State::Complete);
}

TEST(MetricsHttp, MalformedAndOversizedRequestsAreTold) {
    for (const char* bad :
         {"GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET /metrics HTTP/2\r\n\r\n",
          "GET  /metrics HTTP/1.1\r\n\r\n", "GET /a b HTTP/1.1\r\n\r\n", "\r\n\r\n"})
        EXPECT_EQ(parseHttpRequest(bad).state, State::Malformed) << bad;
    std::string huge = "GET /metrics HTTP/1.1\r\nX: " + std::string(kMaxRequestBytes, 'a');
    EXPECT_EQ(parseHttpRequest(huge).state, State::TooLarge);
    EXPECT_EQ(parseHttpRequest(huge + "\r\n\r\n").state, State::TooLarge);
}

TEST(MetricsHttp, OnlyGetMetricsIsAnswered) {
    auto build = [] { return std::string("m 1\n"); };
    auto answer = [&](const std::string& text) { return respondTo(parseHttpRequest(text), build); };
    EXPECT_EQ(answer("GET /metrics HTTP/1.1\r\n\r\n").status, 200);
    EXPECT_EQ(answer("GET /metrics HTTP/1.1\r\n\r\n").body, "m 1\n");
    EXPECT_EQ(answer("GET /metrics?x=1 HTTP/1.1\r\n\r\n").status, 200);
    EXPECT_EQ(answer("GET / HTTP/1.1\r\n\r\n").status, 404);
    EXPECT_EQ(answer("GET /metricsx HTTP/1.1\r\n\r\n").status, 404);
    EXPECT_EQ(answer("POST /metrics HTTP/1.1\r\n\r\n").status, 404);
    EXPECT_EQ(answer("GET /metrics\r\n\r\n").status, 400);
    EXPECT_EQ(respondTo(HttpRequest{State::TooLarge, "", ""}, build).status, 431);
    EXPECT_EQ(formatHttpResponse({200, "m 1\n"}),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
              "Content-Length: 4\r\nConnection: close\r\n\r\nm 1\n");
}

TEST(MetricsHttp, ListenValues) {
    auto a = parseMetricsListen("9854");
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 9854);
    a = parseMetricsListen(":9854");
    EXPECT_EQ(a.host, "127.0.0.1");
    a = parseMetricsListen("0.0.0.0:1");
    EXPECT_EQ(a.host, "0.0.0.0");
    EXPECT_EQ(a.port, 1);
    a = parseMetricsListen("[::1]:65535");
    EXPECT_EQ(a.host, "::1");
    EXPECT_EQ(a.port, 65535);
    EXPECT_EQ(parseMetricsListen("localhost:80").host, "localhost");
    for (const char* bad : {"", "host", "host:", "1.2.3.4:0", "1.2.3.4:65536", "::1:80", "[::1]",
                            "[::1]80", "a b:80", "1.2.3.4:80x", "1.2.3.4:-1", "[zz]:80"}) {
        try {
            parseMetricsListen(bad);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("metrics-listen"), std::string::npos) << e.what();
        }
    }
}

// A client of the endpoint on 127.0.0.1.
int connectTo(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(static_cast<uint16_t>(port));
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
    return fd;
}

std::string exchange(int port, const std::string& request) {
    int fd = connectTo(port);
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string reply;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, n);
    ::close(fd);
    return reply;
}

TEST(MetricsHttp, AnEndpointAnswersAndOutlastsSlowClients) {
    // Port 0: the kernel picks a free one; a client gets 300 ms here instead of 5 s.
    MetricsEndpoint endpoint(
        {"127.0.0.1", 0}, [] { return std::string("m 1\n"); }, 300);
    ASSERT_GT(endpoint.port(), 0);
    EXPECT_EQ(exchange(endpoint.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
              formatHttpResponse({200, "m 1\n"}));
    EXPECT_TRUE(
        exchange(endpoint.port(), "GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
    // A request that never ends is cut at the bound with 431.
    std::string huge = "GET /metrics HTTP/1.1\r\nX: " + std::string(kMaxRequestBytes, 'a');
    EXPECT_TRUE(exchange(endpoint.port(), huge).starts_with("HTTP/1.1 431"))
        << exchange(endpoint.port(), huge);
    // A client that sends half a request and waits is closed unanswered, and the next is served.
    int slow = connectTo(endpoint.port());
    ::send(slow, "GET /met", 8, MSG_NOSIGNAL);
    char byte;
    EXPECT_EQ(::recv(slow, &byte, 1, 0), 0);  // closed by the endpoint after its timeout
    ::close(slow);
    EXPECT_TRUE(exchange(endpoint.port(), "GET /metrics HTTP/1.0\r\n\r\n").ends_with("m 1\n"));
}

// Idle connections (a port scanner) are read beside the scrape, not before it: with a client
// timeout of ten minutes, the scrape behind 40 idle ones is answered at once (the endpoint once
// served them one at a time and left the scrape waiting 40 timeouts).
TEST(MetricsHttp, IdleConnectionsDoNotHoldAScrape) {
    MetricsEndpoint endpoint(
        {"127.0.0.1", 0}, [] { return std::string("m 1\n"); }, 600 * 1000);
    std::vector<int> idle;
    for (int i = 0; i < 40; i++) idle.push_back(connectTo(endpoint.port()));
    int fd = connectTo(endpoint.port());
    timeval bound{60, 0};  // a hang fails the test instead of stalling it
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    std::string request = "GET /metrics HTTP/1.1\r\n\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string reply;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, n);
    ::close(fd);
    EXPECT_EQ(reply, formatHttpResponse({200, "m 1\n"}));
    for (int c : idle) ::close(c);
}

TEST(MetricsHttp, AnAddressInUseIsAnErrorNamingTheOption) {
    MetricsEndpoint first({"127.0.0.1", 0}, [] { return std::string(); });
    try {
        MetricsEndpoint second({"127.0.0.1", first.port()}, [] { return std::string(); });
        ADD_FAILURE() << "bound twice";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("metrics-listen"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace backrest::cmd
