package dev.thunderlink.daemon.service;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Reads an XML property list into Java values (dict → Map, array → List, string, integer →
 * Long, true/false → Boolean), strictly: any other element fails. Parses without fetching
 * Apple's DTD (no network in tests) but checks the DOCTYPE names it.
 */
final class PlistParser {
  private PlistParser() {}

  static Object parse(String xml) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setValidating(false);
    f.setNamespaceAware(false);
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
    DocumentBuilder b = f.newDocumentBuilder();
    Document doc = b.parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    if (doc.getDoctype() == null || !"-//Apple//DTD PLIST 1.0//EN".equals(doc.getDoctype().getPublicId())) {
      throw new IllegalArgumentException("not an Apple plist DOCTYPE");
    }
    Element root = doc.getDocumentElement();
    if (!root.getTagName().equals("plist") || !"1.0".equals(root.getAttribute("version"))) {
      throw new IllegalArgumentException("root is not <plist version=\"1.0\">");
    }
    List<Element> children = elements(root);
    if (children.size() != 1) {
      throw new IllegalArgumentException("plist must hold exactly one value");
    }
    return value(children.get(0));
  }

  private static Object value(Element e) {
    switch (e.getTagName()) {
      case "string":
        return e.getTextContent();
      case "integer":
        return Long.parseLong(e.getTextContent().trim());
      case "true":
        return Boolean.TRUE;
      case "false":
        return Boolean.FALSE;
      case "array": {
        List<Object> list = new ArrayList<>();
        for (Element c : elements(e)) {
          list.add(value(c));
        }
        return list;
      }
      case "dict": {
        Map<String, Object> map = new LinkedHashMap<>();
        List<Element> cs = elements(e);
        if (cs.size() % 2 != 0) {
          throw new IllegalArgumentException("dict with a key and no value");
        }
        for (int i = 0; i < cs.size(); i += 2) {
          if (!cs.get(i).getTagName().equals("key")) {
            throw new IllegalArgumentException("dict entry without <key>: " + cs.get(i).getTagName());
          }
          if (map.put(cs.get(i).getTextContent(), value(cs.get(i + 1))) != null) {
            throw new IllegalArgumentException("duplicate key " + cs.get(i).getTextContent());
          }
        }
        return map;
      }
      default:
        throw new IllegalArgumentException("unexpected plist element <" + e.getTagName() + ">");
    }
  }

  private static List<Element> elements(Element parent) {
    List<Element> out = new ArrayList<>();
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n.getNodeType() == Node.ELEMENT_NODE) {
        out.add((Element) n);
      } else if (n.getNodeType() == Node.TEXT_NODE && !n.getTextContent().isBlank()) {
        throw new IllegalArgumentException("stray text in <" + parent.getTagName() + ">: " + n.getTextContent());
      }
    }
    return out;
  }
}
