package dev.thunderlink.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import dev.thunderlink.proto.synccontrol.SyncConflict;
import dev.thunderlink.proto.synccontrol.SyncConflictsResponse;
import dev.thunderlink.proto.synccontrol.SyncEvent;
import dev.thunderlink.proto.synccontrol.SyncListResponse;
import dev.thunderlink.proto.synccontrol.SyncProgress;
import dev.thunderlink.proto.synccontrol.SyncSessionStatus;
import org.junit.jupiter.api.Test;

/** `sync ... --json` prints 64-bit counters as JSON numbers, as `status --json` does, not as protobuf's strings. */
class ProtoJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence();

  private static SyncSessionStatus status() {
    return SyncSessionStatus.newBuilder().setName("proj").setState("RUNNING").setLocalEntries(20_420).setRemoteEntries(4)
        .setBytesSent(173_457_717_000L).putErrors("a.txt", "unreadable").addCollisions("A.txt")
        .setLocalRoot("/w").setRemoteRoot("/h").setFirstSyncDone(true)
        .setProgress(SyncProgress.newBuilder().setOps(20_420).setOpsDone(7).setBytesPerSecond(1.5)).build();
  }

  @Test
  void countersAreNumbersAtEveryDepthAndTextStaysText() throws Exception {
    JsonNode s = JSON.readTree(ProtoJson.pretty(status(), PRINTER));
    assertThat(s.get("local_entries").isIntegralNumber()).as(s.toString()).isTrue();
    assertThat(s.get("local_entries").asLong()).isEqualTo(20_420);
    assertThat(s.get("bytes_sent").asLong()).isEqualTo(173_457_717_000L);
    assertThat(s.get("cycles").isIntegralNumber()).isTrue(); // zero, printed as a default
    assertThat(s.get("progress").get("ops_done").isIntegralNumber()).isTrue();
    assertThat(s.get("progress").get("bytes_per_second").asDouble()).isEqualTo(1.5);
    assertThat(s.get("name").asText()).isEqualTo("proj");
    assertThat(s.get("errors").get("a.txt").asText()).isEqualTo("unreadable");
    assertThat(s.get("collisions").get(0).asText()).isEqualTo("A.txt");
    assertThat(s.get("local_root").asText()).isEqualTo("/w");
    assertThat(s.get("first_sync_done").asBoolean()).isTrue();

    JsonNode list = JSON.readTree(ProtoJson.pretty(SyncListResponse.newBuilder().addSessions(status()).build(), PRINTER));
    assertThat(list.get("sessions").get(0).get("remote_entries").isIntegralNumber()).isTrue();
    JsonNode conflicts = JSON.readTree(ProtoJson.pretty(SyncConflictsResponse.newBuilder()
        .addConflicts(SyncConflict.newBuilder().setPath("a").setAtUnixMillis(1_795_919_378_855L)).build(), PRINTER));
    assertThat(conflicts.get("conflicts").get(0).get("at_unix_millis").asLong()).isEqualTo(1_795_919_378_855L);
    assertThat(conflicts.get("conflicts").get(0).get("at_unix_millis").isIntegralNumber()).isTrue();
  }

  @Test
  void anEventIsOneLine() throws Exception {
    SyncEvent e = SyncEvent.newBuilder().setAtUnixMillis(1_795_919_378_855L).setKind("changed").setStatus(status()).build();
    String line = ProtoJson.line(e, JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace());
    assertThat(line).doesNotContain("\n").startsWith("{\"at_unix_millis\":1795919378855,\"kind\":\"changed\"");
    assertThat(JSON.readTree(line).get("status").get("local_entries").asLong()).isEqualTo(20_420);
  }
}
