package dev.thunderlink.daemon;

public final class Main {
  public static void main(String[] args) {
    System.out.println("thunderlink");
  }
}
