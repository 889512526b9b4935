package dev.thunderlink.daemon.service;

import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * Renders a launchd agent property list with a real XML writer (StAX), so paths and
 * arguments with {@code &}, {@code <} or quotes are escaped correctly.
 *
 * <p>Why these keys: {@code RunAtLoad} + {@code KeepAlive} start it at login and restart it
 * if it dies; {@code ProcessType = Interactive} because launchd treats an agent without it
 * as {@code Standard}/{@code Background} work that macOS may throttle (CPU and I/O QoS, timer
 * coalescing, App Nap-like policies), which would add latency to every token and file
 * change on the link; {@code ExitTimeOut} gives the daemon its shutdown grace before SIGKILL.
 */
public final class LaunchdPlist {
  private LaunchdPlist() {}

  public static String label(String role) {
    return "dev.thunderlink." + ServiceSpec.checkRole(role);
  }

  /**
   * The plist for a spec.
   *
   * @param logDir where launchd writes the process's stdout/stderr ({@code ~/Library/Logs/thunderlink})
   */
  public static String render(ServiceSpec spec, Path logDir) {
    StringWriter sw = new StringWriter();
    try {
      XMLStreamWriter w = XMLOutputFactory.newInstance().createXMLStreamWriter(sw);
      w.writeStartDocument("UTF-8", "1.0");
      w.writeCharacters("\n");
      w.writeDTD(
          "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">");
      w.writeCharacters("\n");
      w.writeStartElement("plist");
      w.writeAttribute("version", "1.0");
      Map<String, Object> env = new LinkedHashMap<>();
      env.put("THUNDERLINK_HOME", spec.home().toString());
      env.put(ServiceSpec.SERVICE_ENV, "1");
      Map<String, Object> dict = new LinkedHashMap<>();
      dict.put("Label", label(spec.role()));
      dict.put("ProgramArguments", spec.commandLine());
      dict.put("EnvironmentVariables", env);
      dict.put("WorkingDirectory", spec.home().toString());
      dict.put("RunAtLoad", Boolean.TRUE);
      dict.put("KeepAlive", Boolean.TRUE);
      dict.put("ProcessType", "Interactive");
      dict.put("ExitTimeOut", spec.stopTimeoutSeconds());
      dict.put("ThrottleInterval", 5);
      dict.put("StandardOutPath", logDir.resolve(spec.role() + ".out.log").toString());
      dict.put("StandardErrorPath", logDir.resolve(spec.role() + ".err.log").toString());
      value(w, dict, 1);
      w.writeCharacters("\n");
      w.writeEndElement();
      w.writeCharacters("\n");
      w.writeEndDocument();
      w.close();
    } catch (XMLStreamException e) {
      throw new IllegalStateException("cannot render plist", e);
    }
    return sw.toString();
  }

  private static void value(XMLStreamWriter w, Object v, int depth) throws XMLStreamException {
    indent(w, depth);
    if (v instanceof String s) {
      element(w, "string", s);
    } else if (v instanceof Integer i) {
      element(w, "integer", i.toString());
    } else if (v instanceof Boolean b) {
      w.writeEmptyElement(b ? "true" : "false");
    } else if (v instanceof List<?> list) {
      w.writeStartElement("array");
      for (Object o : list) {
        value(w, o, depth + 1);
      }
      indent(w, depth);
      w.writeEndElement();
    } else if (v instanceof Map<?, ?> map) {
      w.writeStartElement("dict");
      for (Map.Entry<?, ?> e : map.entrySet()) {
        indent(w, depth + 1);
        element(w, "key", e.getKey().toString());
        value(w, e.getValue(), depth + 1);
      }
      indent(w, depth);
      w.writeEndElement();
    } else {
      throw new IllegalArgumentException("plist value: " + v + " (expected: string, integer, boolean, list or map)");
    }
  }

  private static void element(XMLStreamWriter w, String name, String text) throws XMLStreamException {
    w.writeStartElement(name);
    w.writeCharacters(text);
    w.writeEndElement();
  }

  private static void indent(XMLStreamWriter w, int depth) throws XMLStreamException {
    w.writeCharacters("\n" + "  ".repeat(depth));
  }
}
