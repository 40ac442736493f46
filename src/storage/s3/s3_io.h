// The reader and writer of one S3 object (s3_read.cpp, s3_write.cpp).
#pragma once

#include <memory>
#include <string>

#include "storage/storage.h"

namespace backrest::storage::s3 {

class S3Storage;

// Ranged GETs of readChunk bytes, one at a time as they are read: memory holds one chunk, never
// the object. A missing object (404 at the first GET): nullptr when ignoreMissing, else
// FileMissingError naming s3://bucket/key.
std::unique_ptr<StorageRead> openS3Read(S3Storage& storage, const std::string& key,
                                        bool ignoreMissing, const ReadRange& range);

// One PUT at close for up to partSize bytes; beyond, a multipart upload with up to partsInFlight
// parts sent at once, completed at close and aborted if the writer is destroyed before (so no
// object appears until the whole file is there).
std::unique_ptr<StorageWrite> openS3Write(S3Storage& storage, const std::string& key);

}  // namespace backrest::storage::s3
