// The typed requests and replies of src/protocol/messages.h: each one's exact wire form (the
// field names doc/protocol.md gives and the integration suites send by hand), its round trip,
// and a message of the wrong shape refused as a ProtocolError naming the message and field.
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "protocol/messages.h"
#include "test/unit/test_support.h"

namespace backrest::protocol {
namespace {

using backrest::test::errorOf;
using backrest::test::has;

// The wire form, and that decoding it gives the struct back (compared through its encoding).
template <typename T>
void expectWire(const T& value, const std::string& json) {
    Message encoded = value.toMessage();
    EXPECT_EQ(encoded.dump(), json);
    EXPECT_EQ(T::fromMessage(Message::parse(json)).toMessage().dump(), json);
}

TEST(ProtocolMessages, HelloAndItsReply) {
    expectWire(Hello{kVersion, "backup"}, R"({"client":"backup","type":"hello","version":1})");
    expectWire(HelloReply{kVersion, "backrest 0.1.0", 4242},
               R"({"ok":true,"pid":4242,"server":"backrest 0.1.0","version":1})");
    // A daemon that does not say its pid (or says nonsense) is one the launcher cannot adopt.
    EXPECT_EQ(HelloReply::fromMessage({{"ok", true}, {"version", 1}}).pid, 0);
    EXPECT_EQ(HelloReply::fromMessage({{"ok", true}, {"version", 1}, {"pid", -5}}).pid, 0);
    EXPECT_EQ(HelloReply::fromMessage({{"ok", true}, {"version", 1}, {"pid", "7"}}).pid, 0);
    Error e = errorOf([] { Hello::fromMessage({{"type", "info"}, {"version", 1}}); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(e.what(), "expected hello, not 'info'")) << e.what();
}

TEST(ProtocolMessages, ArchivePushAndStatus) {
    expectWire(ArchivePush{"/pg/pg_wal/000000010000000000000003"},
               R"({"path":"/pg/pg_wal/000000010000000000000003"})");
    expectWire(ArchivePushReply{"already-present"}, R"({"result":"already-present"})");
    expectWire(ArchiveStatus{}, "{}");

    ArchiveStatusReply none;
    none.pending = 2;
    none.stream = "off";
    expectWire(none, R"({"async":false,"last-archived":null,"last-archived-time":null,)"
                     R"("last-failure":null,"last-failure-message":null,"last-failure-time":null,)"
                     R"("pending":2,"pushed":0,"stream":"off","streamed":0})");
    ArchiveStatusReply some = none;
    some.lastArchived = "000000010000000000000003";
    some.lastArchivedTime = 1764950000;
    some.lastFailure = "000000010000000000000004";
    some.lastFailureTime = 1764950001;
    some.lastFailureMessage = "no space left";
    some.pushed = 7;
    some.async = true;
    some.stream = "streaming 000000010000000000000005";
    some.streamed = 3;
    expectWire(some, R"({"async":true,"last-archived":"000000010000000000000003",)"
                     R"("last-archived-time":1764950000,"last-failure":"000000010000000000000004",)"
                     R"("last-failure-message":"no space left","last-failure-time":1764950001,)"
                     R"("pending":2,"pushed":7,"stream":"streaming 000000010000000000000005",)"
                     R"("streamed":3})");
    ArchiveStatusReply back = ArchiveStatusReply::fromMessage(some.toMessage());
    EXPECT_EQ(back.lastFailureMessage, "no space left");
    EXPECT_EQ(back.lastArchivedTime, 1764950000);
    EXPECT_FALSE(ArchiveStatusReply::fromMessage(none.toMessage()).lastFailure.has_value());
}

// Issue 23: the daemon's archive failures per repository (metrics); absent when none is counted,
// so an older client's view of the reply is unchanged.
TEST(ProtocolMessages, ArchiveStatusFailuresPerRepository) {
    ArchiveStatusReply status;
    status.stream = "off";
    status.failures = {{1, 0}, {3, 5}};
    EXPECT_EQ(status.toMessage()["failures"].dump(), R"({"repo1":0,"repo3":5})");
    auto back = ArchiveStatusReply::fromMessage(Message::parse(status.toMessage().dump()));
    EXPECT_EQ(back.failures, status.failures);
    Message bad = status.toMessage();
    bad["failures"] = Message::parse(R"({"repo1":-1})");
    EXPECT_TRUE(
        has(errorOf([&] { ArchiveStatusReply::fromMessage(bad); }).what(), "failures.repo1"));
    bad["failures"] = Message::parse(R"({"x":1})");
    EXPECT_TRUE(has(errorOf([&] { ArchiveStatusReply::fromMessage(bad); }).what(), "failures.x"));
}

TEST(ProtocolMessages, BackupBeginCopyFinish) {
    expectWire(BackupBegin{"incr"}, R"({"backup-type":"incr"})");
    EXPECT_EQ(BackupBegin::fromMessage(Message::object()).backupType, "full");
    expectWire(BackupBeginReply{"20261205-174500F"}, R"({"label":"20261205-174500F"})");
    // Into another repository than the daemon's first: the request names it, the reply says
    // which one the backup went to.
    expectWire(BackupBegin{"full", 2}, R"({"backup-type":"full","repo":2})");
    EXPECT_EQ(BackupBegin::fromMessage({{"repo", 3}}).repo, 3);
    EXPECT_FALSE(BackupBegin::fromMessage(Message::object()).repo.has_value());
    expectWire(BackupBeginReply{"20261205-174500F", 2}, R"({"label":"20261205-174500F","repo":2})");
    EXPECT_EQ(BackupBeginReply::fromMessage({{"label", "x"}, {"repo", 2}}).repo, 2);
    Error wide = errorOf([] { BackupBegin::fromMessage({{"repo", 4294967298LL}}); });
    EXPECT_EQ(wide.code(), ErrorCode::Protocol);
    EXPECT_STREQ(wide.what(),
                 "malformed 'backup-begin' request: field 'repo' must be 1 to 4 (repo1..repo4), "
                 "not 4294967298");

    BackupCopy copy;
    copy.lsn = "0/2000028";
    copy.walFile = "000000010000000000000002";
    copy.timestamp = 1764950000;
    copy.walSegmentSize = 16777216;
    copy.dataChecksums = true;
    copy.tablespaces = {{1663, "pg_default"}, {16390, "ts one"}};
    expectWire(copy, R"({"data-checksums":true,"lsn":"0/2000028","tablespaces":[)"
                     R"({"name":"pg_default","oid":1663},{"name":"ts one","oid":16390}],)"
                     R"("timestamp":1764950000,"wal-file":"000000010000000000000002",)"
                     R"("wal-segment-size":16777216})");
    EXPECT_EQ(BackupCopy::fromMessage(copy.toMessage()).tablespaces, copy.tablespaces);
    EXPECT_FALSE(BackupCopy::fromMessage(copy.toMessage()).databases);  // not sent: none recorded
    copy.databases = {{{5, "postgres"}, {16384, "app db"}}};
    EXPECT_EQ(copy.toMessage().at("databases").dump(),
              R"([{"name":"postgres","oid":5},{"name":"app db","oid":16384}])");
    EXPECT_EQ(BackupCopy::fromMessage(copy.toMessage()).databases, copy.databases);
    auto malformed = copy.toMessage();
    malformed["databases"] = Message::array({1});
    EXPECT_THROW(BackupCopy::fromMessage(malformed), Error);
    malformed["databases"] = Message::array({Message{{"oid", -1}, {"name", "x"}}});
    EXPECT_THROW(BackupCopy::fromMessage(malformed), Error);
    expectWire(BackupCopyProgress{100, 40, 10, 4},
               R"({"bytes-done":40,"bytes-total":100,"files-done":4,"files-total":10})");
    expectWire(BackupCopyReply{}, "{}");

    expectWire(BackupFinish{"0/3000100", "000000010000000000000003", "START WAL LOCATION", ""},
               R"({"label-file":"START WAL LOCATION","lsn":"0/3000100",)"
               R"("tablespace-map":"","wal-file":"000000010000000000000003"})");
    EXPECT_EQ(BackupFinish::fromMessage({{"lsn", "0/1"}, {"wal-file", "w"}, {"label-file", "l"}})
                  .tablespaceMap,
              "");
    BackupFinishReply done{"20261205-174500F", 1000, 400, 12, "A", "B", std::nullopt};
    expectWire(done, R"({"file-count":12,"label":"20261205-174500F","repo-size":400,"size":1000,)"
                     R"("wal-start":"A","wal-stop":"B"})");
    done.expire = "expired full backup 20261201-000000F";
    expectWire(done, R"({"expire":"expired full backup 20261201-000000F","file-count":12,)"
                     R"("label":"20261205-174500F","repo-size":400,"size":1000,"wal-start":"A",)"
                     R"("wal-stop":"B"})");
}

TEST(ProtocolMessages, StanzaCreateExpireInfo) {
    expectWire(StanzaCreate{}, "{}");
    expectWire(StanzaCreateReply{"stanza 'main' created"},
               R"({"message":"stanza 'main' created"})");
    expectWire(Expire{std::nullopt, true}, R"({"dry-run":true})");
    expectWire(Expire{"20261201-000000F", false}, R"({"dry-run":false,"set":"20261201-000000F"})");
    EXPECT_FALSE(Expire::fromMessage(Message::object()).dryRun);
    expectWire(ExpireReply{"nothing to expire"}, R"({"report":"nothing to expire"})");
    expectWire(Info{}, "{}");
    // The exact reply daemon.sh expects for a stanza without backups (with id and ok added).
    expectWire(InfoReply{}, R"({"backups":[]})");
    expectWire(InfoReply{Message::parse(R"([{"label":"20261205-174500F","type":"full"}])")},
               R"({"backups":[{"label":"20261205-174500F","type":"full"}]})");
    // A repository that could not be read: its error beside the others' backups.
    InfoReply partial{Message::parse(R"([{"label":"20261205-174500F"}])"),
                      Message::parse(R"([{"code":39,"message":"denied","repo":2}])")};
    expectWire(partial, R"({"backups":[{"label":"20261205-174500F"}],)"
                        R"("errors":[{"code":39,"message":"denied","repo":2}]})");
    EXPECT_EQ(InfoReply::fromMessage(partial.toMessage()).errors.size(), 1u);
    Error e = errorOf(
        [] { InfoReply::fromMessage(Message::parse(R"({"backups":[],"errors":[{"repo":2}]})")); });
    EXPECT_TRUE(has(e.what(), "field 'message' is missing")) << e.what();
}

TEST(ProtocolMessages, DrillAndItsProgress) {
    expectWire(Drill{}, "{}");
    Drill full{"20261206-000000F", "time", "2026-12-06 11:00:00+00", 2};
    expectWire(full, R"({"repo":2,"set":"20261206-000000F","target":"2026-12-06 11:00:00+00",)"
                     R"("target-type":"time"})");
    expectWire(DrillProgress{"20261206-153100423", "plan"},
               R"({"drill-id":"20261206-153100423","phase":"plan"})");
    expectWire(DrillProgress{std::nullopt, "recovery"}, R"({"phase":"recovery"})");
    expectWire(DrillReply{"20261206-153100423", "20261206-000000F"},
               R"({"backup":"20261206-000000F","drill-id":"20261206-153100423"})");
    Error repo = errorOf([] { Drill::fromMessage({{"repo", 9}}); });
    EXPECT_STREQ(repo.what(),
                 "malformed 'drill' request: field 'repo' must be 1 to 4 (repo1..repo4), not 9");
    Error phase = errorOf([] { DrillProgress::fromMessage({{"drill-id", "x"}}); });
    EXPECT_TRUE(has(phase.what(), "progress of 'drill': field 'phase' is missing")) << phase.what();
}

TEST(ProtocolMessages, MissingFieldNamesMessageAndField) {
    Error e = errorOf([] { ArchivePush::fromMessage({{"type", "archive-push"}, {"id", 11}}); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_STREQ(e.what(), "malformed 'archive-push' request: field 'path' is missing");

    Error r = errorOf([] { BackupBeginReply::fromMessage({{"ok", true}}); });
    EXPECT_EQ(r.code(), ErrorCode::Protocol);
    EXPECT_STREQ(r.what(), "malformed reply to 'backup-begin': field 'label' is missing");
}

TEST(ProtocolMessages, WrongTypeNamesFieldAndValue) {
    Message copy = BackupCopy{}.toMessage();
    copy["timestamp"] = "yesterday";
    Error e = errorOf([&] { BackupCopy::fromMessage(copy); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_STREQ(e.what(),
                 "malformed 'backup-copy' request: field 'timestamp' is not an integer: "
                 "\"yesterday\"");

    Message status = ArchiveStatusReply{}.toMessage();
    status["pending"] = -1;
    Error s = errorOf([&] { ArchiveStatusReply::fromMessage(status); });
    EXPECT_TRUE(has(s.what(), "field 'pending' is not an unsigned integer: -1")) << s.what();

    Message expire = {{"dry-run", "yes"}};
    Error x = errorOf([&] { Expire::fromMessage(expire); });
    EXPECT_TRUE(has(x.what(), "field 'dry-run' is not true or false")) << x.what();

    Error i = errorOf([] { InfoReply::fromMessage({{"backups", {{"label", "x"}}}}); });
    EXPECT_TRUE(has(i.what(), "reply to 'info': field 'backups' is not an array")) << i.what();
}

TEST(ProtocolMessages, TablespacesAndSegmentSizeAreChecked) {
    Message copy = BackupCopy{}.toMessage();
    copy["wal-segment-size"] = 4294967296ULL;  // one past uint32: never truncated to 0
    Error big = errorOf([&] { BackupCopy::fromMessage(copy); });
    EXPECT_TRUE(has(big.what(), "field 'wal-segment-size' is out of range: 4294967296"))
        << big.what();

    copy["wal-segment-size"] = 16777216;
    copy["tablespaces"] = Message::array({Message::array({1663, "pg_default"})});
    Error notObject = errorOf([&] { BackupCopy::fromMessage(copy); });
    EXPECT_EQ(notObject.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(notObject.what(), "a tablespace is not an object")) << notObject.what();

    copy["tablespaces"] = Message::array({{{"oid", 1663}}});
    Error noName = errorOf([&] { BackupCopy::fromMessage(copy); });
    EXPECT_TRUE(has(noName.what(), "field 'name' is missing")) << noName.what();
}

}  // namespace
}  // namespace backrest::protocol
