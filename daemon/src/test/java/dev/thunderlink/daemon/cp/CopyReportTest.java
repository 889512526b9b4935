package dev.thunderlink.daemon.cp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON of {@code cp --json}. */
class CopyReportTest {
  /** Resets {@link CopyReport.Entry} to Jackson's bean serializer. */
  @JsonSerialize(using = JsonSerializer.None.class)
  private abstract static class BeanEntry {}

  /**
   * The entries' own serializer writes what Jackson's bean serializer writes, byte for byte:
   * names, order, null fields left out. A field added to the record without it fails here.
   */
  @Test
  void entriesAreWrittenAsTheBeanSerializerWouldWriteThem() throws Exception {
    CopyReport r = new CopyReport(
        "push", 3, 1, 1, 1, 2, 1234, 0.5, 2.4, false, "XXH3-128", 1, true,
        List.of(
            new CopyReport.Entry("/src/a \"quoted\".txt", "host:/dst/a.txt", 1234, 1234, "heap", false, null),
            new CopyReport.Entry("/src/b", "host:/dst/b", 10, 0, null, true, null),
            new CopyReport.Entry("/src/gone", null, 0, 0, null, false, "no such file or directory: /src/gone"),
            new CopyReport.Entry(null, "host:/dst/d", 0, 0, "symlink", false, "line\nbreak")));
    ObjectMapper ours = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectMapper bean = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).addMixIn(CopyReport.Entry.class, BeanEntry.class);
    String expected = bean.writeValueAsString(r);
    assertThat(expected).contains("\"source\" : \"/src/a \\\"quoted\\\".txt\"").doesNotContain("null");
    assertThat(ours.writeValueAsString(r)).isEqualTo(expected);
  }
}
