// SHA-256 over OpenSSL's EVP interface, as a chain observer and as a one-shot helper.
#include "io/sha256.h"

#include <openssl/evp.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "common/error.h"
#include "common/executor.h"

namespace backrest::io {

struct Sha256Filter::Context {
    EVP_MD_CTX* md = nullptr;
    ~Context() { EVP_MD_CTX_free(md); }
};

// The hashing beside the caller, as a task on the shared executor (common/executor.h): pieces of
// at most kPiece bytes, at most kQueued waiting, so the copy never runs far ahead of the hash
// (bounded memory) and a slow hash slows the caller down. One task at a time drains the queue,
// in order. When the queue is full and no worker has started that task, the caller runs it: the
// hash then follows the copy on one thread, as it would without a worker to spare.
struct Sha256Filter::Background {
    static constexpr size_t kPiece = 1024 * 1024;
    static constexpr size_t kQueued = 4;

    explicit Background(Sha256Filter& owner) : owner(owner) {}
    ~Background() {
        if (task) Executor::shared().abandon(task);  // an error path: the digest is not wanted
    }

    void add(std::span<const uint8_t> in) {
        while (!in.empty()) {
            size_t n = std::min(in.size(), kPiece - filling.size());
            filling.insert(filling.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
            in = in.subspan(n);
            if (filling.size() == kPiece) handOver();
        }
    }
    // Hashes what is left and waits for the task; rethrows its failure.
    void finish() {
        if (!filling.empty()) handOver();
        settle();
        if (!failure.empty()) raise(ErrorCode::Crypto, "{}", failure);
    }

  private:
    void handOver() {
        std::unique_lock lock(mutex);
        while (queue.size() >= kQueued) {
            if (!started) {  // queued, no worker free: hash here (settle runs it)
                lock.unlock();
                settle();
                lock.lock();
            } else {
                changed.wait(lock, [&] { return queue.size() < kQueued || !active; });
            }
        }
        queue.push_back(std::move(filling));
        filling.clear();
        if (!spare.empty()) {
            filling = std::move(spare.back());
            spare.pop_back();
            filling.clear();
        }
        filling.reserve(kPiece);
        if (active) return;  // the running task takes this piece too
        active = true;
        started = false;
        lock.unlock();
        settle();  // the task that just ended, if any: its handle
        task = Executor::shared().submit([this] { drain(); });
    }
    // Waits for the task (running it here if no worker started it).
    void settle() {
        if (!task) return;
        auto ending = std::move(task);
        task = nullptr;
        Executor::shared().wait(ending);
    }
    // The task: hashes the queued pieces in order until none is left.
    void drain() {
        std::unique_lock lock(mutex);
        started = true;
        while (!queue.empty()) {
            std::vector<uint8_t> piece = std::move(queue.front());
            queue.pop_front();
            lock.unlock();
            changed.notify_all();
            try {
                if (failure.empty()) owner.update(piece);
            } catch (const std::exception& e) {
                failure = e.what();
            }
            lock.lock();
            spare.push_back(std::move(piece));
        }
        active = false;
        changed.notify_all();
    }

    Sha256Filter& owner;
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::vector<uint8_t>> queue;
    std::vector<std::vector<uint8_t>> spare;
    std::vector<uint8_t> filling;
    std::string failure;    // read after the task has ended
    bool active = false;    // a task is queued or running and will take what is queued
    bool started = false;   // that task has begun
    Executor::Handle task;  // the caller's only
};

Sha256Filter::Sha256Filter(Thread thread) : ctx_(std::make_unique<Context>()) {
    ctx_->md = EVP_MD_CTX_new();
    if (ctx_->md == nullptr) raise(ErrorCode::Crypto, "unable to allocate SHA-256 context");
    if (EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) {
        raise(ErrorCode::Crypto, "unable to initialise SHA-256 digest");
    }
    if (thread == Thread::Own) background_ = std::make_unique<Background>(*this);
}

Sha256Filter::~Sha256Filter() = default;

void Sha256Filter::update(std::span<const uint8_t> in) {
    if (EVP_DigestUpdate(ctx_->md, in.data(), in.size()) != 1) {
        raise(ErrorCode::Crypto, "SHA-256 update failed");
    }
}

void Sha256Filter::process(std::span<const uint8_t> in, Buffer&) {
    if (!hex_.empty()) raise(ErrorCode::Assert, "SHA-256 updated after finish()");
    if (in.empty()) return;
    if (background_)
        background_->add(in);
    else
        update(in);
}

void Sha256Filter::finish(Buffer&) {
    if (!hex_.empty()) return;
    if (background_) {
        background_->finish();
        background_.reset();
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_->md, digest, &length) != 1) {
        raise(ErrorCode::Crypto, "SHA-256 finalisation failed");
    }
    static constexpr char kDigits[] = "0123456789abcdef";
    hex_.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex_.push_back(kDigits[digest[i] >> 4]);
        hex_.push_back(kDigits[digest[i] & 0x0f]);
    }
}

std::string sha256Hex(std::span<const uint8_t> bytes) {
    Sha256Filter filter;
    Buffer unused;
    filter.process(bytes, unused);
    filter.finish(unused);
    return filter.hex();
}

std::string sha256Hex(std::string_view text) {
    return sha256Hex(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace backrest::io
