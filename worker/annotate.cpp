// annotate: adds, changes or removes (empty value) the key/value annotations of one backup, as
// pgBackRest 2.45's annotate does. The manifest is the record (rewritten whole, checksummed, its
// copy beside it, each written under a temporary name and renamed); backup.info's summary is
// updated after, so info shows the annotations without opening every manifest.
#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "repo/annotation.h"
#include "repo/info.h"
#include "repo/lock.h"
#include "repo/manifest.h"
#include "worker/commands.h"
#include "worker/context.h"

namespace backrest::cmd {

int annotate(const Config& config) {
    auto label = config.find(opt::set);
    if (!label)
        raise(ErrorCode::Option, "annotate: --set=<label> is required (the backup to annotate)");
    auto changes = repo::parseAnnotations(config.getMulti(opt::annotation), "annotate");
    if (changes.empty())
        raise(ErrorCode::Option,
              "annotate: give at least one --annotation=key=value (an empty value removes the "
              "key)");
    auto repo = openRepo(config, RepoAccess::Write);
    auto layout = stanzaLayout(config);
    // backup and expire rewrite backup.info from what they read when they began: one at a time.
    repo::StanzaLock lock(config.getString(opt::lockPath), layout.stanza, "backup");
    auto info = repo::requireBackupInfo(*repo, layout);
    auto summary = std::find_if(info.backups.begin(), info.backups.end(),
                                [&](const auto& b) { return b.label == *label; });
    if (summary == info.backups.end())
        raise(ErrorCode::BackupSet, "annotate: backup set {} is not in stanza '{}' (see 'info')",
              *label, layout.stanza);
    auto manifest = repo::loadManifest(*repo, layout.manifest(*label), layout.key);
    manifest.annotations = repo::applyAnnotations(manifest.annotations, changes);
    repo::saveManifest(*repo, layout.manifest(*label), manifest, layout.key);
    summary->annotations = manifest.annotations;
    repo::saveBackupInfo(*repo, layout, info);
    fmt::print("annotate: backup {} has {} annotation{}\n", *label, manifest.annotations.size(),
               manifest.annotations.size() == 1 ? "" : "s");
    return 0;
}

}  // namespace backrest::cmd
