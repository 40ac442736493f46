// The metrics endpoint (worker/metrics_http.h). Written here rather than taken from a library:
// it reads one bounded request, writes one response and closes — about a hundred lines whose
// limits (size, time) are plain to see, where an HTTP library brings keep-alive, chunking and
// its own threads to audit.
#include "worker/metrics_http.h"

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include "common/error.h"
#include "common/log.h"

namespace backrest::cmd {

namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

const char* reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 431:
            return "Request Header Fields Too Large";
        default:
            return "Internal Server Error";
    }
}

[[noreturn]] void badListen(const std::string& value, const char* why) {
    raise(ErrorCode::Option,
          "option 'metrics-listen': '{}' {}; give host:port (127.0.0.1:9854, [::1]:9854) or a "
          "port alone (host 127.0.0.1)",
          value, why);
}

}  // namespace

HttpRequest parseHttpRequest(std::string_view received) {
    HttpRequest r;
    size_t end = received.find("\r\n\r\n");
    size_t endLength = 4;
    if (size_t bare = received.find("\n\n"); bare != std::string_view::npos && bare < end) {
        end = bare;
        endLength = 2;
    }
    if (end == std::string_view::npos) {
        r.state = received.size() >= kMaxRequestBytes ? HttpRequest::State::TooLarge
                                                      : HttpRequest::State::Incomplete;
        return r;
    }
    if (end + endLength > kMaxRequestBytes) {
        r.state = HttpRequest::State::TooLarge;
        return r;
    }
    std::string_view line = received.substr(0, received.find('\n'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    r.state = HttpRequest::State::Malformed;
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return r;
    std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                     version = line.substr(sp2 + 1);
    if (method.empty() || target.empty() || !version.starts_with("HTTP/1.")) return r;
    r.state = HttpRequest::State::Complete;
    r.method = method;
    r.target = target;
    return r;
}

HttpResponse respondTo(const HttpRequest& request,
                       const std::function<std::string()>& buildMetrics) {
    if (request.state == HttpRequest::State::TooLarge) return {431, "request too large\n"};
    if (request.state != HttpRequest::State::Complete) return {400, "bad request\n"};
    std::string path = request.target.substr(0, request.target.find('?'));
    if (request.method != "GET" || path != "/metrics") return {404, "not found\n"};
    try {
        return {200, buildMetrics()};
    } catch (const std::exception& e) {
        return {500, fmt::format("{}\n", e.what())};
    }
}

std::string formatHttpResponse(const HttpResponse& response) {
    return fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
        "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        response.status, reason(response.status), response.body.size(), response.body);
}

ListenAddress parseMetricsListen(const std::string& value) {
    ListenAddress a{"127.0.0.1", 0};
    std::string port = value;
    if (value.starts_with('[')) {
        size_t close = value.find("]:");
        if (close == std::string::npos || close == 1) badListen(value, "has no ']:port' after '['");
        a.host = value.substr(1, close - 1);
        if (a.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
            badListen(value, "is not an IPv6 address in brackets");
        port = value.substr(close + 2);
    } else if (size_t colon = value.rfind(':'); colon != std::string::npos) {
        if (colon > 0) a.host = value.substr(0, colon);
        if (a.host.find(':') != std::string::npos)
            badListen(value, "names an IPv6 address without brackets");
        if (a.host.find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
            std::string::npos)
            badListen(value, "has a host that is not a name or an address");
        port = value.substr(colon + 1);
    }
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos)
        badListen(value, "has no port number");
    a.port = std::stoi(port);
    if (a.port < 1 || a.port > 65535) badListen(value, "has a port outside 1-65535");
    return a;
}

MetricsEndpoint::MetricsEndpoint(const ListenAddress& address,
                                 std::function<std::string()> buildMetrics, int clientTimeoutMs)
    : build_(std::move(buildMetrics)),
      stop_(::eventfd(0, EFD_CLOEXEC)),
      clientTimeoutMs_(clientTimeoutMs) {
    if (!stop_.valid())
        raiseErrno(ErrorCode::Protocol, "unable to create an eventfd for", "the metrics endpoint");
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string where = address.host.find(':') == std::string::npos
                            ? fmt::format("{}:{}", address.host, address.port)
                            : fmt::format("[{}]:{}", address.host, address.port);
    if (int rc = ::getaddrinfo(address.host.c_str(), std::to_string(address.port).c_str(), &hints,
                               &found);
        rc != 0)
        raise(ErrorCode::Option, "option 'metrics-listen': unable to resolve '{}': {}",
              address.host, ::gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);
    listen_.reset(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listen_.valid())
        raiseErrno(ErrorCode::Option, "option 'metrics-listen': unable to create a socket for",
                   where);
    int one = 1;
    ::setsockopt(listen_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_.get(), found->ai_addr, found->ai_addrlen) != 0 ||
        ::listen(listen_.get(), 16) != 0)
        raiseErrno(ErrorCode::Option, "option 'metrics-listen': unable to listen on", where);
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    thread_ = std::thread([this] { run(); });
}

MetricsEndpoint::~MetricsEndpoint() {
    uint64_t one = 1;
    if (::write(stop_.get(), &one, sizeof one) < 0) std::terminate();  // the join would hang
    thread_.join();
}

// Every client is read at once (poll), each until its request is whole or its time is up, so
// idle connections (a port scanner, a stuck proxy) never keep a scrape waiting; at most
// kMaxClients are held, and a new one displaces the one waiting longest.
void MetricsEndpoint::run() {
    struct Client {
        std::unique_ptr<storage::Fd> fd;
        std::string received;
        Clock::time_point deadline;
    };
    std::deque<Client> clients;
    for (;;) {
        auto now = Clock::now();
        std::erase_if(clients, [&](const Client& c) { return c.deadline <= now; });
        std::vector<pollfd> p = {{listen_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        auto soonest = Clock::time_point::max();
        for (const Client& c : clients) {
            p.push_back({c.fd->get(), POLLIN, 0});
            soonest = std::min(soonest, c.deadline);
        }
        int ready = ::poll(p.data(), p.size(), clients.empty() ? -1 : remainingMs(soonest));
        if (ready < 0) {
            if (errno == EINTR) continue;
            logWarn("metrics endpoint: poll failed: {}", std::strerror(errno));
            return;
        }
        if (p[1].revents) return;
        // From the back, so that erasing one leaves the others' poll entries in place.
        for (size_t i = clients.size(); i-- > 0;) {
            if (p[2 + i].revents == 0) continue;
            Client& c = clients[i];
            char buffer[4096];
            size_t room = std::min(sizeof buffer, kMaxRequestBytes - c.received.size());
            ssize_t n = ::recv(c.fd->get(), buffer, room, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n > 0) c.received.append(buffer, static_cast<size_t>(n));
            HttpRequest request = n > 0 ? parseHttpRequest(c.received) : HttpRequest{};
            if (n > 0 && request.state == HttpRequest::State::Incomplete) continue;
            if (n > 0) {
                try {
                    respond(c.fd->get(), request);
                } catch (const std::exception& e) {
                    logDetail("metrics endpoint: {}", e.what());
                }
            }
            clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));  // answered or gone
        }
        if (p[0].revents) {
            auto client = std::make_unique<storage::Fd>(
                ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
            if (!client->valid()) continue;  // the client left already, or out of descriptors
            if (clients.size() >= kMaxClients) clients.pop_front();
            clients.push_back({std::move(client),
                               {},
                               Clock::now() + std::chrono::milliseconds(clientTimeoutMs_)});
        }
    }
}

// One response, then close; the write is bounded by the client timeout.
void MetricsEndpoint::respond(int fd, const HttpRequest& request) {
    std::string out = formatHttpResponse(respondTo(request, build_));
    size_t sent = 0;
    auto deadline = Clock::now() + std::chrono::milliseconds(clientTimeoutMs_);
    while (sent < out.size()) {
        pollfd p[2] = {{fd, POLLOUT, 0}, {stop_.get(), POLLIN, 0}};
        int ready = ::poll(p, 2, remainingMs(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0 || p[1].revents) return;  // a reader too slow is cut off
        ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) return;
        sent += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    // Closing with unread bytes (the rest of a request too large) would reset the connection and
    // could discard the response before the client reads it: drain a little, briefly, first.
    char sink[4096];
    size_t drained = 0;
    deadline = Clock::now() + std::chrono::milliseconds(100);
    while (drained < 65536) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, remainingMs(deadline)) <= 0) return;
        ssize_t n = ::recv(fd, sink, sizeof sink, 0);
        if (n <= 0) return;
        drained += static_cast<size_t>(n);
    }
}

}  // namespace backrest::cmd
