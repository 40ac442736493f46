// AzureStorage: the common operations over Blob service requests (blob_client.h).
#include "storage/azure/azure_storage.h"

#include <deque>
#include <future>

#include "common/error.h"
#include "storage/azure/blob_xml.h"

namespace backrest::storage::azure {

namespace {

FileInfo entry(std::string name, FileType type, uint64_t size, int64_t mtime) {
    FileInfo info;
    info.name = std::move(name);
    info.type = type;
    info.size = size;
    info.mtime = mtime;
    return info;
}

}  // namespace

AzureStorage::AzureStorage(AzureSettings settings) {
    while (settings.prefix.starts_with("/")) settings.prefix.erase(0, 1);
    while (settings.prefix.ends_with("/")) settings.prefix.pop_back();
    client_ = std::make_shared<BlobClient>(std::move(settings));
}

std::string AzureStorage::blobName(const std::string& path) const {
    std::string relative = path;
    while (relative.starts_with("/")) relative.erase(0, 1);
    while (relative.ends_with("/")) relative.pop_back();
    const std::string& prefix = client_->settings().prefix;
    if (prefix.empty()) return relative;
    return relative.empty() ? prefix : prefix + "/" + relative;
}

std::string AzureStorage::fullPath(const std::string& path) const {
    return client_->display(blobName(path));
}

std::unique_ptr<StorageRead> AzureStorage::openRead(const std::string& path, bool ignoreMissing,
                                                    const ReadRange& range) {
    return openBlobRead(client_, path, blobName(path), ignoreMissing, range);
}

std::unique_ptr<StorageWrite> AzureStorage::openWrite(const std::string& path,
                                                      const WriteOptions&) {
    return openBlobWrite(client_, path, blobName(path));
}

void AzureStorage::pathCreate(const std::string&, mode_t) {}

void AzureStorage::listPages(const std::string& prefix, bool delimiter,
                             const std::function<void(const ListPage&)>& onPage) {
    std::string what = fmt::format("List Blobs '{}'", client_->display(prefix));
    std::string marker;
    do {
        QueryParams query{{"restype", "container"}, {"comp", "list"}};
        if (!prefix.empty()) query.emplace_back("prefix", prefix);
        if (delimiter) query.emplace_back("delimiter", "/");
        if (!marker.empty()) query.emplace_back("marker", marker);
        http::Response reply = client_->send("GET", "", query, {}, {}, what);
        if (reply.status != 200) client_->fail(reply, what);
        ListPage page = parseListPage(reply.body, what);
        onPage(page);
        marker = page.nextMarker;
    } while (!marker.empty());
}

std::optional<FileInfo> AzureStorage::info(const std::string& path, bool) {
    std::string blob = blobName(path);
    if (!blob.empty()) {
        std::string what = fmt::format("HEAD '{}'", client_->display(blob));
        http::Response reply = client_->send("HEAD", blob, {}, {}, {}, what);
        if (reply.status == 200) {
            FileInfo info;
            info.name = path;
            if (const std::string* length = reply.header("content-length"))
                info.size = std::stoull(*length);
            if (const std::string* modified = reply.header("last-modified"))
                info.mtime = std::max<int64_t>(0, parseHttpDate(*modified));
            return info;
        }
        if (reply.status != 404 || BlobClient::errorCode(reply) == "ContainerNotFound")
            client_->fail(reply, what);
    }
    // Not a blob: a path while anything is under it.
    bool any = false;
    listPages(blob.empty() ? "" : blob + "/", true, [&](const ListPage& page) {
        any = any || !page.blobs.empty() || !page.prefixes.empty();
    });
    if (!any) return std::nullopt;
    return entry(path, FileType::Path, 0, 0);
}

std::vector<FileInfo> AzureStorage::list(const std::string& path, bool ignoreMissing) {
    std::string blob = blobName(path);
    std::vector<FileInfo> entries = listPrefix(path, "");
    if (entries.empty() && !ignoreMissing)
        raise(ErrorCode::FileMissing, "path '{}' does not exist (no blob under it)",
              client_->display(blob));
    return entries;
}

std::vector<FileInfo> AzureStorage::listPrefix(const std::string& path,
                                               const std::string& namePrefix) {
    std::string blob = blobName(path);
    std::string prefix = blob.empty() ? "" : blob + "/";
    std::vector<FileInfo> entries;
    listPages(prefix + namePrefix, true, [&](const ListPage& page) {
        for (const auto& listed : page.blobs)
            entries.push_back(entry(listed.name.substr(prefix.size()), FileType::File, listed.size,
                                    listed.mtime));
        for (const auto& sub : page.prefixes) {
            std::string name = sub.substr(prefix.size());
            if (name.ends_with("/")) name.pop_back();
            entries.push_back(entry(name, FileType::Path, 0, 0));
        }
    });
    return entries;
}

void AzureStorage::remove(const std::string& path, bool errorOnMissing) {
    std::string blob = blobName(path);
    std::string what = fmt::format("DELETE '{}'", client_->display(blob));
    http::Response reply = client_->send("DELETE", blob, {}, {}, {}, what);
    if (reply.status == 202) return;
    if (reply.status == 404 && BlobClient::errorCode(reply) == "BlobNotFound") {
        if (errorOnMissing)
            raise(ErrorCode::FileMissing, "'{}' does not exist, cannot remove it",
                  client_->display(blob));
        return;
    }
    client_->fail(reply, what);
}

void AzureStorage::removePath(const std::string& path, bool recursive) {
    if (!recursive) return;  // no empty directories to remove
    std::string blob = blobName(path);
    std::vector<std::string> names;
    listPages(blob.empty() ? "" : blob + "/", false, [&](const ListPage& page) {
        for (const auto& listed : page.blobs) names.push_back(listed.name);
    });
    // Deletes in parallel, bounded; a blob already gone (another expire) is no error.
    std::deque<std::future<void>> inFlight;
    auto removeOne = [client = client_](std::string name) {
        std::string what = fmt::format("DELETE '{}'", client->display(name));
        http::Response reply = client->send("DELETE", name, {}, {}, {}, what);
        if (reply.status != 202 &&
            !(reply.status == 404 && BlobClient::errorCode(reply) == "BlobNotFound"))
            client->fail(reply, what);
    };
    size_t limit = static_cast<size_t>(std::max(1, client_->settings().parallel));
    std::exception_ptr first;
    auto waitOldest = [&] {
        try {
            inFlight.front().get();
        } catch (...) {
            if (!first) first = std::current_exception();
        }
        inFlight.pop_front();
    };
    for (auto& name : names) {
        if (first) break;
        while (inFlight.size() >= limit) waitOldest();
        inFlight.push_back(std::async(std::launch::async, removeOne, name));
    }
    while (!inFlight.empty()) waitOldest();
    if (first) std::rethrow_exception(first);
}

}  // namespace backrest::storage::azure
