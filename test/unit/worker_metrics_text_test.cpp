// The Prometheus text of `backrest metrics` (worker/metrics_text.cpp, worker/metrics.cpp): format
// 0.0.4's lines and escapes, and the series a stanza's info JSON gives.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.h"
#include "test/unit/temp_dir.h"
#include "worker/metrics.h"
#include "worker/metrics_text.h"

namespace backrest::cmd {
namespace {

using nlohmann::json;

TEST(MetricsText, FamiliesPrintHelpTypeAndSamplesInOrderOfDeclaration) {
    MetricsText out;
    out.family("b_total", MetricsText::Type::Counter, "Things.");
    out.family("a_bytes", MetricsText::Type::Gauge, "Bytes.");
    out.family("unused", MetricsText::Type::Gauge, "Never sampled.");
    out.add("a_bytes", {{"repo", "repo1"}}, 1024);
    out.add("b_total", {}, 3);
    out.add("a_bytes", {{"repo", "repo2"}}, 0);
    EXPECT_EQ(out.str(),
              "# HELP b_total Things.\n# TYPE b_total counter\nb_total 3\n"
              "# HELP a_bytes Bytes.\n# TYPE a_bytes gauge\na_bytes{repo=\"repo1\"} 1024\n"
              "a_bytes{repo=\"repo2\"} 0\n");
}

TEST(MetricsText, LabelValuesAndHelpAreEscaped) {
    EXPECT_EQ(escapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    MetricsText out;
    out.family("x", MetricsText::Type::Gauge, "line\nback\\slash \"quoted\"");
    out.add("x", {{"stanza", "we\"ird"}, {"repo", "repo1"}}, 1);
    EXPECT_EQ(out.str(),
              "# HELP x line\\nback\\\\slash \"quoted\"\n# TYPE x gauge\n"
              "x{stanza=\"we\\\"ird\",repo=\"repo1\"} 1\n");
}

TEST(MetricsText, ValuesPrintExactly) {
    EXPECT_EQ(formatSampleValue(0), "0");
    EXPECT_EQ(formatSampleValue(1795309260), "1795309260");          // never 1.79e+09
    EXPECT_EQ(formatSampleValue(1099511627776.0), "1099511627776");  // 1 TiB
    EXPECT_EQ(formatSampleValue(-5), "-5");
    EXPECT_EQ(formatSampleValue(0.25), "0.25");
    EXPECT_EQ(formatSampleValue(std::nan("")), "NaN");
    EXPECT_EQ(formatSampleValue(1.0 / 0.0), "+Inf");
    EXPECT_EQ(formatSampleValue(-1.0 / 0.0), "-Inf");
}

TEST(MetricsText, AnUndeclaredFamilyIsABug) {
    MetricsText out;
    EXPECT_THROW(out.add("nope", {}, 1), Error);
}

json backupOf(const std::string& label, const std::string& type, int64_t start, int64_t stop,
              uint64_t size, uint64_t repoDelta, int pageErrorFiles = 0) {
    return {{"label", label},
            {"type", type},
            {"timestamp", {{"start", start}, {"stop", stop}}},
            {"info",
             {{"size", size},
              {"delta", size / 2},
              {"repository", {{"size", repoDelta * 3}, {"delta", repoDelta}}},
              {"page-error-files", pageErrorFiles}}}};
}

json stanzaWithBackups() {
    return {{"name", "main"},
            {"status", {{"code", 0}, {"message", "ok"}}},
            {"archive", json::array({{{"id", "15-1"},
                                      {"min", "000000010000000000000001"},
                                      {"max", "000000010000000000000009"}}})},
            {"backup", json::array({backupOf("20261206-100000F", "full", 1000, 1060, 5000, 400),
                                    backupOf("20261206-100000F_20261206-110000I", "incr", 2000,
                                             2003, 5100, 40, 2),
                                    backupOf("20261206-120000F", "full", 3000, 3090, 6000, 500)})},
            {"archive-bytes", 777}};
}

std::string seriesOf(const json& stanza, int64_t now, const ServerWal* wal) {
    MetricsText out;
    declareMetrics(out);
    addRepoUp(out, 2, true);
    addStanzaMetrics(out, stanza, 2, now, wal);
    return out.str();
}

bool has(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, TheNewestBackupOfEachTypeGivesAgeSizeAndDuration) {
    std::string text = seriesOf(stanzaWithBackups(), 4000, nullptr);
    const std::string full = "{stanza=\"main\",repo=\"repo2\",type=\"full\"}";
    const std::string incr = "{stanza=\"main\",repo=\"repo2\",type=\"incr\"}";
    EXPECT_TRUE(has(text, "backrest_repo_up{repo=\"repo2\"} 1")) << text;
    EXPECT_TRUE(has(text, "backrest_backup_count" + full + " 2")) << text;
    EXPECT_TRUE(has(text, "backrest_backup_count{stanza=\"main\",repo=\"repo2\",type=\"diff\"} 0"));
    EXPECT_TRUE(has(text, "backrest_backup_last_timestamp_seconds" + full + " 3090"));
    EXPECT_TRUE(has(text, "backrest_backup_last_age_seconds" + full + " 910"));
    EXPECT_TRUE(has(text, "backrest_backup_last_duration_seconds" + full + " 90"));
    EXPECT_TRUE(has(text, "backrest_backup_last_size_bytes" + full + " 6000"));
    EXPECT_TRUE(has(text, "backrest_backup_last_delta_bytes" + full + " 3000"));
    EXPECT_TRUE(has(text, "backrest_backup_last_repo_size_bytes" + full + " 1500"));
    EXPECT_TRUE(has(text, "backrest_backup_last_repo_delta_bytes" + full + " 500"));
    EXPECT_TRUE(has(text, "backrest_backup_last_age_seconds" + incr + " 1997"));
    EXPECT_TRUE(has(text, "backrest_backup_last_page_checksum_error_files" + incr + " 2"));
    // No diff backup: no "last" series for it, only its count.
    EXPECT_EQ(
        text.find("backrest_backup_last_age_seconds{stanza=\"main\",repo=\"repo2\",type=\"diff\"}"),
        std::string::npos);
    EXPECT_TRUE(has(text, "backrest_repo_backup_size_bytes{stanza=\"main\",repo=\"repo2\"} 940"));
    EXPECT_TRUE(has(text, "backrest_repo_archive_size_bytes{stanza=\"main\",repo=\"repo2\"} 777"));
    EXPECT_TRUE(has(text,
                    "backrest_archive_last_segment_info{stanza=\"main\",repo=\"repo2\","
                    "segment=\"000000010000000000000009\"} 1"));
    // Without the server's pg_wal, no lag (it would be a guess) and no drill (none ran).
    EXPECT_EQ(text.find("backrest_archive_lag"), std::string::npos);
    EXPECT_EQ(text.find("backrest_drill"), std::string::npos);
}

TEST(Metrics, ArchiveLagCountsFinishedSegmentsTheRepositoryLacks) {
    ServerWal wal;
    wal.finished = {{"000000010000000000000008", 3500},
                    {"000000010000000000000009", 3600},
                    {"00000001000000000000000A", 3700},
                    {"00000001000000010000000B", 3800}};
    std::string text = seriesOf(stanzaWithBackups(), 4000, &wal);
    EXPECT_TRUE(has(text, "backrest_archive_lag_segments{stanza=\"main\",repo=\"repo2\"} 2"))
        << text;
    EXPECT_TRUE(has(text, "backrest_archive_lag_seconds{stanza=\"main\",repo=\"repo2\"} 300"));
    // A later timeline sorts after: its segments are lag too.
    wal.finished = {{"000000020000000000000009", 3900}};
    text = seriesOf(stanzaWithBackups(), 4000, &wal);
    EXPECT_TRUE(has(text, "backrest_archive_lag_segments{stanza=\"main\",repo=\"repo2\"} 1"));
    wal.finished = {{"000000010000000000000009", 3600}};
    text = seriesOf(stanzaWithBackups(), 4000, &wal);
    EXPECT_TRUE(has(text, "backrest_archive_lag_segments{stanza=\"main\",repo=\"repo2\"} 0"));
    EXPECT_TRUE(has(text, "backrest_archive_lag_seconds{stanza=\"main\",repo=\"repo2\"} 0"));
}

TEST(Metrics, TheServersFinishedSegmentsAreItsArchiveStatusFiles) {
    test::TempDir pg("metrics-pg");
    EXPECT_FALSE(readServerWal(pg.path()).has_value());  // no pg_wal here: no lag, not 0
    std::filesystem::path status = pg.path() + "/pg_wal/archive_status";
    std::filesystem::create_directories(status);
    for (const char* name :
         {"000000010000000000000003.done", "000000010000000000000005.ready",
          "000000010000000000000004.ready", "00000002.history.ready",
          "000000010000000000000002.00000028.backup.done", "000000010000000000000006.partial.ready",
          "000000010000000000000007.ready.tmp"})
        std::ofstream(status / name) << "";
    auto wal = readServerWal(pg.path());
    ASSERT_TRUE(wal.has_value());
    ASSERT_EQ(wal->finished.size(), 3u);
    EXPECT_EQ(wal->finished[0].first, "000000010000000000000003");
    EXPECT_EQ(wal->finished[1].first, "000000010000000000000004");
    EXPECT_EQ(wal->finished[2].first, "000000010000000000000005");
    EXPECT_GT(wal->finished[0].second, 0);
}

TEST(Metrics, AStanzaWithoutBackupsOrArchiveSaysSo) {
    json stanza = {{"name", "new"},
                   {"status", {{"code", 2}, {"message", "no valid backups"}}},
                   {"archive", json::array({{{"id", "15-1"}, {"min", nullptr}, {"max", nullptr}}})},
                   {"backup", json::array()}};
    ServerWal wal;
    wal.finished = {{"000000010000000000000001", 90}};
    std::string text = seriesOf(stanza, 100, &wal);
    EXPECT_TRUE(has(text, "backrest_stanza_status{stanza=\"new\",repo=\"repo2\"} 2")) << text;
    EXPECT_TRUE(has(text, "backrest_backup_count{stanza=\"new\",repo=\"repo2\",type=\"full\"} 0"));
    EXPECT_EQ(text.find("backrest_archive_last_segment_info"), std::string::npos);
    EXPECT_TRUE(has(text, "backrest_archive_lag_segments{stanza=\"new\",repo=\"repo2\"} 1"));
    EXPECT_TRUE(has(text, "backrest_archive_lag_seconds{stanza=\"new\",repo=\"repo2\"} 10"));
}

TEST(Metrics, DaemonSeriesAndDrillHook) {
    MetricsText out;
    declareMetrics(out);
    addDaemonMetrics(out, "main", std::nullopt);
    EXPECT_EQ(out.str(),
              "# HELP backrest_daemon_up 1 when the daemon (backrest serve) answered, 0 when not "
              "(CLI only).\n# TYPE backrest_daemon_up gauge\nbackrest_daemon_up{stanza=\"main\"} "
              "0\n");
    protocol::ArchiveStatusReply status;
    status.stream = "streaming 000000010000000000000003";
    status.pushed = 7;
    status.failures = {{1, 0}, {2, 3}};
    MetricsText up;
    declareMetrics(up);
    addDaemonMetrics(up, "main", status);
    std::string text = up.str();
    EXPECT_TRUE(has(text, "backrest_wal_stream_up{stanza=\"main\"} 1")) << text;
    EXPECT_TRUE(has(text, "backrest_archive_pushed_total{stanza=\"main\"} 7"));
    EXPECT_TRUE(has(text, "backrest_archive_failures_total{stanza=\"main\",repo=\"repo1\"} 0"));
    EXPECT_TRUE(has(text, "backrest_archive_failures_total{stanza=\"main\",repo=\"repo2\"} 3"));

    json stanza = stanzaWithBackups();
    stanza["drill"] =
        json::array({{{"result", "passed"}, {"timestamp", {{"start", 3900}, {"stop", 3950}}}}});
    text = seriesOf(stanza, 4000, nullptr);
    EXPECT_TRUE(has(text, "backrest_drill_last_success{stanza=\"main\",repo=\"repo2\"} 1")) << text;
    EXPECT_TRUE(
        has(text, "backrest_drill_last_duration_seconds{stanza=\"main\",repo=\"repo2\"} 50"));
    EXPECT_TRUE(has(text, "backrest_drill_last_age_seconds{stanza=\"main\",repo=\"repo2\"} 50"));
    stanza["drill"].push_back({{"result", "failed"}});
    text = seriesOf(stanza, 4000, nullptr);
    EXPECT_TRUE(has(text, "backrest_drill_last_success{stanza=\"main\",repo=\"repo2\"} 0"));
}

}  // namespace
}  // namespace backrest::cmd
