package dev.thunderlink.benchmarks.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Writes a run's report folder: {@code results.json} (every figure with its sample count, or why
 * it is missing), {@code report.md} (a table per suite: each path, the first-versus-second ratio
 * and the limit on each path) and one PNG chart per suite ({@code <suite-id>.png}, drawn with
 * XChart: for each path, thunderlink's bars beside the limit's).
 *
 * <p>Runs on the caller's thread; XChart draws headless through java2d.
 */
final class BenchReport {

  /** thunderlink's figures in blues, the limits in greys, darkest first. */
  private static final Color[] THUNDERLINK = {
    new Color(0x0b, 0x3d, 0x91), new Color(0x1f, 0x6f, 0xeb), new Color(0x7f, 0xb0, 0xf5), new Color(0xbf, 0xd8, 0xfa)};
  private static final Color[] LIMIT = {new Color(0x6e, 0x6e, 0x6e), new Color(0xb4, 0xb4, 0xb4)};

  private BenchReport() {}

  /** Writes everything into {@code dir} (created); returns the files written. */
  static List<Path> write(BenchResults r, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    List<Path> written = new ArrayList<>();
    Path json = dir.resolve("results.json");
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), toJson(r));
    written.add(json);
    List<String> charts = new ArrayList<>();
    for (BenchResults.SuiteResult s : r.suites) {
      for (String unit : units(s)) {
        Path png = chart(r, s, unit, dir);
        if (png != null) {
          written.add(png);
          charts.add(png.getFileName().toString());
        }
      }
    }
    Path md = dir.resolve("report.md");
    Files.writeString(md, markdown(r));
    written.add(md);
    return written;
  }

  // ---- results.json ---------------------------------------------------------------------

  static Map<String, Object> toJson(BenchResults r) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("tool", "thunderlink bench");
    root.put("started", r.started.toString());
    root.put("finished", r.finished == null ? null : r.finished.toString());
    root.put("mode", r.mode);
    root.put("environment", r.environment);
    root.put("full", r.full);
    root.put("machine", machine());
    List<Map<String, Object>> paths = new ArrayList<>();
    for (BenchResults.PathInfo p : r.paths) {
      paths.add(Map.of("name", p.name(), "label", p.label(), "description", p.description()));
    }
    root.put("paths", paths);
    List<Map<String, Object>> suites = new ArrayList<>();
    for (BenchResults.SuiteResult s : r.suites) {
      Map<String, Object> sj = new LinkedHashMap<>();
      sj.put("id", s.suite.id());
      sj.put("title", s.suite.title());
      sj.put("description", s.suite.description());
      sj.put("seconds", s.millis / 1000.0);
      if (s.suite.hostSide() != null) {
        sj.put("scope", "host side, measured once: the same on every path");
        sj.put("columns", Map.of("measured", s.suite.hostSide().measured(), "baseline", s.suite.hostSide().baseline()));
      }
      List<Map<String, Object>> metrics = new ArrayList<>();
      for (BenchMetric m : s.suite.metrics()) {
        Map<String, Object> mj = new LinkedHashMap<>();
        mj.put("id", m.id());
        mj.put("name", m.name());
        mj.put("unit", m.unit());
        mj.put("better", m.higherIsBetter() ? "higher" : "lower");
        mj.put("limit", m.limitId());
        Map<String, Object> values = new LinkedHashMap<>();
        for (BenchResults.PathInfo p : r.columns(s)) {
          BenchResults.Cell c = s.cell(m.id(), p.name());
          Map<String, Object> cj = new LinkedHashMap<>();
          if (c.present()) {
            cj.put("value", c.value());
            cj.put("samples", c.samples());
          } else {
            cj.put("unavailable", c.unavailable());
          }
          values.put(p.name(), cj);
        }
        mj.put("paths", values);
        metrics.add(mj);
      }
      sj.put("metrics", metrics);
      sj.put("notes", s.notes);
      suites.add(sj);
    }
    root.put("suites", suites);
    root.put("not_measured_yet", r.notMeasuredYet);
    root.put("warnings", r.warnings);
    return root;
  }

  private static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    m.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
    m.put("max_heap_mib", Runtime.getRuntime().maxMemory() >> 20);
    return m;
  }

  // ---- report.md ------------------------------------------------------------------------

  static String markdown(BenchResults r) {
    StringBuilder b = new StringBuilder();
    b.append("# thunderlink bench\n\n");
    b.append("- started ").append(r.started).append(r.full ? ", full run" : ", short run (`--full` for the long one)");
    if (r.finished != null) {
      b.append(", took ").append(Duration.between(r.started, r.finished).toSeconds()).append(" s");
    }
    b.append('\n');
    b.append("- ").append(r.environment).append('\n');
    for (BenchResults.PathInfo p : r.paths) {
      b.append("- path `").append(p.name()).append("` (").append(p.label()).append("): ")
          .append(p.description()).append('\n');
    }
    Map<String, Object> machine = machine();
    b.append("- machine: ").append(machine.get("os")).append(", ").append(machine.get("cpus"))
        .append(" CPUs, ").append(machine.get("java")).append('\n');
    for (String w : r.warnings) {
      b.append("- warning: ").append(w).append('\n');
    }
    b.append('\n');
    String ratioHeader = r.paths.size() >= 2
        ? r.paths.get(0).label() + " vs " + r.paths.get(1).label()
        : "ratio";
    for (BenchResults.SuiteResult s : r.suites) {
      if (s.suite.hostSide() != null) {
        hostTable(b, r, s);
        continue;
      }
      b.append("## ").append(s.suite.title()).append(" (`").append(s.suite.id()).append("`)\n\n");
      b.append(s.suite.description()).append("\n\n");
      b.append("| metric |");
      for (BenchResults.PathInfo p : r.paths) {
        b.append(' ').append(p.label()).append(" |");
      }
      b.append(' ').append(ratioHeader).append(" | the machine's limit (");
      b.append(String.join(" / ", r.paths.stream().map(BenchResults.PathInfo::label).toList()));
      b.append(") |\n|---|");
      b.append("---:|".repeat(r.paths.size())).append("---:|---|\n");
      for (BenchMetric m : s.suite.metrics()) {
        b.append("| ").append(m.name()).append(m.isLimit() ? " *(limit)*" : "").append(" |");
        for (BenchResults.PathInfo p : r.paths) {
          b.append(' ').append(cell(s.cell(m.id(), p.name()), m.unit())).append(" |");
        }
        b.append(' ').append(ratio(m, s, r)).append(" |");
        if (m.limitId() == null) {
          b.append(" — |\n");
        } else {
          BenchMetric limit = s.metric(m.limitId());
          List<String> limits = new ArrayList<>();
          for (BenchResults.PathInfo p : r.paths) {
            BenchResults.Cell lc = s.cell(limit.id(), p.name());
            BenchResults.Cell mc = s.cell(m.id(), p.name());
            String v = lc.present() ? format(lc.value()) + " " + limit.unit() : "n/a";
            if (lc.present() && mc.present() && lc.value() > 0) {
              double share = m.higherIsBetter() ? mc.value() / lc.value() : lc.value() / mc.value();
              v += String.format(Locale.ROOT, " (%.0f%%)", share * 100);
            }
            limits.add(v);
          }
          b.append(' ').append(String.join(" / ", limits)).append(" ").append(limit.name()).append(" |\n");
        }
      }
      b.append('\n');
      b.append("Ratio: how many times better the first path is (lower-is-better metrics: second ÷ first;"
          + " higher-is-better: first ÷ second). Percentages: thunderlink's figure as a share of the"
          + " limit on the same path (100% = as good as the raw path).\n\n");
      notesAndCharts(b, r, s);
    }
    if (!r.notMeasuredYet.isEmpty()) {
      b.append("## Not measured yet\n\n");
      for (String id : r.notMeasuredYet) {
        String what = BenchSuites.PLANNED.getOrDefault(id, "");
        b.append("- `").append(id).append("`: ").append(what).append(" — not built yet\n");
      }
      b.append('\n');
    }
    return b.toString();
  }

  /**
   * A host-side suite's section: one row per thunderlink figure, beside its baseline, and how many
   * times better thunderlink is; shown once because the path does not change it.
   */
  private static void hostTable(StringBuilder b, BenchResults r, BenchResults.SuiteResult s) {
    BenchSuite.HostSide h = s.suite.hostSide();
    b.append("## ").append(s.suite.title()).append(" (`").append(s.suite.id()).append("`)")
        .append(" — host side, measured once (the same over every path)\n\n");
    b.append(s.suite.description()).append("\n\n");
    b.append("| metric | ").append(h.measured()).append(" | ").append(h.baseline()).append(" | ")
        .append(h.measured()).append(" vs ").append(h.baseline()).append(" |\n|---|---:|---:|---:|\n");
    for (BenchMetric m : s.suite.metrics()) {
      if (m.isLimit()) {
        continue;
      }
      BenchResults.Cell mine = s.cell(m.id(), BenchResults.HOST);
      b.append("| ").append(m.name()).append(" | ").append(cell(mine, m.unit())).append(" | ");
      if (m.limitId() == null) {
        b.append("— | — |\n");
        continue;
      }
      BenchMetric base = s.metric(m.limitId());
      BenchResults.Cell theirs = s.cell(base.id(), BenchResults.HOST);
      Double a = BenchResults.advantage(m, mine, theirs);
      b.append(cell(theirs, base.unit())).append(" | ")
          .append(a == null ? "n/a" : String.format(Locale.ROOT, "%.1f×", a)).append(" |\n");
    }
    b.append('\n');
    b.append("Last column: how many times better ").append(h.measured()).append(" is (lower-is-better"
        + " metrics: baseline ÷ thunderlink; higher-is-better: thunderlink ÷ baseline).\n\n");
    notesAndCharts(b, r, s);
  }

  private static void notesAndCharts(StringBuilder b, BenchResults r, BenchResults.SuiteResult s) {
    List<String> missing = missingLines(r, s);
    if (!s.notes.isEmpty() || !missing.isEmpty()) {
      b.append("Notes:\n\n");
      for (String n : s.notes) {
        b.append("- ").append(n).append('\n');
      }
      for (String n : missing) {
        b.append("- ").append(n).append('\n');
      }
      b.append('\n');
    }
    if (missing.size() < s.suite.metrics().size() * r.columns(s).size()) {
      for (String unit : units(s)) {
        b.append("![").append(s.suite.title()).append(" (").append(unit).append(")](")
            .append(chartName(s, unit)).append(")\n\n");
      }
    }
  }

  private static List<String> missingLines(BenchResults r, BenchResults.SuiteResult s) {
    List<String> out = new ArrayList<>();
    for (BenchMetric m : s.suite.metrics()) {
      for (BenchResults.PathInfo p : r.columns(s)) {
        BenchResults.Cell c = s.cell(m.id(), p.name());
        if (!c.present()) {
          out.add(m.name() + " over " + p.label() + ": " + c.unavailable());
        }
      }
    }
    return out;
  }

  private static String ratio(BenchMetric m, BenchResults.SuiteResult s, BenchResults r) {
    if (r.paths.size() < 2) {
      return "—";
    }
    Double a = BenchResults.advantage(m, s.cell(m.id(), r.paths.get(0).name()), s.cell(m.id(), r.paths.get(1).name()));
    return a == null ? "n/a" : String.format(Locale.ROOT, "%.1f×", a);
  }

  private static String cell(BenchResults.Cell c, String unit) {
    return c.present() ? format(c.value()) + " " + unit : "n/a";
  }

  static String format(double v) {
    if (v >= 1000) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    return String.format(Locale.ROOT, "%.1f", v);
  }

  // ---- charts ---------------------------------------------------------------------------

  private static CategoryChart barChart(String title, String xAxis, String unit, boolean higherIsBetter) {
    CategoryChart chart = new CategoryChartBuilder()
        .width(900)
        .height(520)
        .title(title)
        .xAxisTitle(xAxis)
        .yAxisTitle(unit + (higherIsBetter ? " (higher is better)" : " (lower is better)"))
        .build();
    Styler st = chart.getStyler();
    st.setLegendPosition(Styler.LegendPosition.OutsideS);
    st.setLegendLayout(Styler.LegendLayout.Horizontal);
    st.setDecimalPattern("#,##0.#");
    chart.getStyler().setLabelsVisible(true);
    chart.getStyler().setLabelsFontColorAutomaticEnabled(false);
    chart.getStyler().setLabelsFontColor(Color.BLACK);
    chart.getStyler().setLabelsPosition(1.02);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setPlotGridVerticalLinesVisible(false);
    return chart;
  }

  /** Above this many metrics in one chart, one group per metric instead of one per path. */
  private static final int WIDE = 6;

  /**
   * A chart of many metrics (the bulk plane's modes): one group per metric, one bar per path
   * (Thunderbolt dark, Wi-Fi light), the limits as groups of their own, each value printed on its
   * bar (XChart draws no logarithmic bars, so a slow row shows as a low bar with its figure).
   */
  private static Path wideChart(BenchResults r, BenchResults.SuiteResult s, String unit, List<BenchMetric> metrics,
      Path dir) throws IOException {
    // the metrics' ids (random-zero-copy, tree-lz4, raw-tcp): short enough for every group to keep its label
    List<String> categories = metrics.stream().map(m -> m.id() + (m.isLimit() ? " (limit)" : "")).toList();
    CategoryChart chart = barChart(s.suite.title() + ": " + String.join(" vs ",
        r.paths.stream().map(BenchResults.PathInfo::label).toList()), "", unit, metrics.get(0).higherIsBetter());
    chart.getStyler().setXAxisLabelRotation(45);
    chart.getStyler().setXAxisTickMarkSpacingHint(20); // a label for every group (the default thins them out)
    boolean any = false;
    List<List<Double>> series = new ArrayList<>();
    for (BenchResults.PathInfo p : r.paths) {
      List<Double> values = new ArrayList<>();
      for (BenchMetric m : metrics) {
        BenchResults.Cell c = s.cell(m.id(), p.name());
        values.add(c.present() ? c.value() : 0.0);
        any |= c.present();
      }
      series.add(values);
    }
    if (!any) {
      return null;
    }
    for (int i = 0; i < r.paths.size(); i++) {
      chart.addSeries(r.paths.get(i).label(), categories, series.get(i))
          .setFillColor(THUNDERLINK[Math.min(i * 2, THUNDERLINK.length - 1)]);
    }
    chart.getStyler().setLabelsRotation(90);
    Path png = dir.resolve(chartName(s, unit));
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    return png;
  }

  /**
   * A host-side suite's chart for one unit: one group per thunderlink metric, thunderlink's bar
   * (blue) beside the baseline's (grey). Null when nothing was measured.
   */
  private static Path hostChart(BenchResults.SuiteResult s, String unit, Path dir) throws IOException {
    BenchSuite.HostSide h = s.suite.hostSide();
    List<BenchMetric> metrics = s.suite.metrics().stream()
        .filter(m -> !m.isLimit() && m.unit().equals(unit)).toList();
    if (metrics.isEmpty()) {
      return null;
    }
    List<String> categories = metrics.stream().map(BenchMetric::name).toList();
    List<Double> mine = new ArrayList<>();
    List<Double> theirs = new ArrayList<>();
    boolean any = false;
    for (BenchMetric m : metrics) {
      BenchResults.Cell c = s.cell(m.id(), BenchResults.HOST);
      BenchResults.Cell l = m.limitId() == null ? BenchResults.Cell.missing("none") : s.cell(m.limitId(), BenchResults.HOST);
      mine.add(c.present() ? c.value() : 0.0);
      theirs.add(l.present() ? l.value() : 0.0);
      any |= c.present() || l.present();
    }
    if (!any) {
      return null;
    }
    CategoryChart chart = barChart(s.suite.title() + ": " + h.measured() + " vs " + h.baseline(), "",
        unit, metrics.get(0).higherIsBetter());
    chart.getStyler().setXAxisLabelRotation(15);
    chart.addSeries(h.measured(), categories, mine).setFillColor(THUNDERLINK[0]);
    chart.addSeries(h.baseline(), categories, theirs).setFillColor(LIMIT[0]);
    Path png = dir.resolve(chartName(s, unit));
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    return png;
  }

  /** The suite's units in order of first use; one chart each. */
  static List<String> units(BenchResults.SuiteResult s) {
    List<String> out = new ArrayList<>();
    for (BenchMetric m : s.suite.metrics()) {
      if (!out.contains(m.unit())) {
        out.add(m.unit());
      }
    }
    return out;
  }

  /** {@code <id>.png} for the suite's first unit, {@code <id>-<unit>.png} for the others. */
  static String chartName(BenchResults.SuiteResult s, String unit) {
    boolean first = units(s).indexOf(unit) == 0;
    return s.suite.id() + (first ? "" : "-" + unit.replaceAll("[^A-Za-z0-9]", "")) + ".png";
  }

  /**
   * A grouped bar chart: one group per path, one bar per metric (thunderlink's in blue, the
   * limits in grey), values printed on the bars. Null when no figure was measured.
   */
  private static Path chart(BenchResults r, BenchResults.SuiteResult s, String unit, Path dir) throws IOException {
    if (s.suite.hostSide() != null) {
      return hostChart(s, unit, dir);
    }
    List<String> categories = r.paths.stream().map(BenchResults.PathInfo::label).toList();
    List<BenchMetric> metrics = s.suite.metrics().stream().filter(m -> m.unit().equals(unit)).toList();
    if (metrics.size() > WIDE) {
      return wideChart(r, s, unit, metrics, dir);
    }
    CategoryChart chart = barChart(s.suite.title() + ": " + String.join(" vs ", categories), "path",
        unit, metrics.get(0).higherIsBetter());
    boolean any = false;
    int measured = 0;
    int limits = 0;
    for (BenchMetric m : metrics) {
      List<Double> values = new ArrayList<>();
      for (BenchResults.PathInfo p : r.paths) {
        BenchResults.Cell c = s.cell(m.id(), p.name());
        values.add(c.present() ? c.value() : 0.0);
        any |= c.present();
      }
      var series = chart.addSeries(m.name() + (m.isLimit() ? " (limit)" : ""), categories, values);
      if (m.isLimit()) {
        series.setFillColor(LIMIT[limits++ % LIMIT.length]);
      } else {
        series.setFillColor(THUNDERLINK[measured++ % THUNDERLINK.length]);
      }
    }
    if (!any) {
      return null;
    }
    Path png = dir.resolve(chartName(s, unit));
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    return png;
  }
}
