// The daemon's metrics endpoint (metrics-listen): a tiny HTTP/1.x server on one thread that
// answers GET /metrics with the text a callback builds, anything else 404, and closes. A request
// is read up to kMaxRequestBytes and within kClientTimeoutMs; up to kMaxClients are read at once,
// so slow, idle or hostile clients never keep a scrape waiting, and never the daemon's archiving,
// which runs elsewhere.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "storage/owned_fd.h"

namespace backrest::cmd {

// Request line and headers together; a scrape sends a few hundred bytes.
constexpr size_t kMaxRequestBytes = 8192;
constexpr int kClientTimeoutMs = 5000;
// Connections read at once; a new one displaces the one waiting longest.
constexpr size_t kMaxClients = 32;

struct HttpRequest {
    enum class State { Incomplete, Complete, TooLarge, Malformed };
    State state = State::Incomplete;
    std::string method, target;
};
// Reads what a client sent so far: complete once the blank line after the headers arrived.
HttpRequest parseHttpRequest(std::string_view received);

// The status line and body for a parsed request (buildMetrics is called for GET /metrics only).
struct HttpResponse {
    int status = 200;
    std::string body;
};
HttpResponse respondTo(const HttpRequest& request,
                       const std::function<std::string()>& buildMetrics);
std::string formatHttpResponse(const HttpResponse& response);

// metrics-listen: "host:port", "[v6-address]:port", or a port alone (host 127.0.0.1). Raises an
// option error naming metrics-listen for anything else.
struct ListenAddress {
    std::string host;
    int port = 0;
};
ListenAddress parseMetricsListen(const std::string& value);

class MetricsEndpoint {
  public:
    // Binds at once: an address that cannot be bound (in use, not this host's) is an error.
    MetricsEndpoint(const ListenAddress& address, std::function<std::string()> buildMetrics,
                    int clientTimeoutMs = kClientTimeoutMs);
    ~MetricsEndpoint();  // stops accepting and joins the thread
    int port() const { return port_; }

  private:
    void run();
    void respond(int fd, const HttpRequest& request);

    std::function<std::string()> build_;
    storage::Fd listen_, stop_;
    int port_ = 0;
    int clientTimeoutMs_;
    std::thread thread_;
};

}  // namespace backrest::cmd
