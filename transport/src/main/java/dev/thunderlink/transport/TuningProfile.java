package dev.thunderlink.transport;

import io.netty.bootstrap.AbstractBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every socket and HTTP/2 knob for one kind of path, in one immutable object.
 *
 * <p>Why these values: a Thunderbolt bridge carries 16–20 Gbit/s at sub-millisecond RTT,
 * so the bandwidth-delay product is small but bursts are huge; large send/receive buffers
 * (macOS caps them at {@code kern.ipc.maxsockbuf}, 8 MiB by default) and a large HTTP/2
 * window keep the pipe full. Setting a buffer turns the kernel's autotuning off, so
 * {@code 0} means "leave it to the kernel" — the Wi-Fi profile does that, because its
 * RTT varies 5–50 ms and autotuning follows it better than a fixed size.
 *
 * @param kind the path kind this profile is for
 * @param sendBufferBytes SO_SNDBUF, 0 to leave autotuning on
 * @param receiveBufferBytes SO_RCVBUF, 0 to leave autotuning on
 * @param writeBufferLowWaterMark Netty's low water mark: writable again below it
 * @param writeBufferHighWaterMark Netty's high water mark: unwritable above it
 * @param flowControlWindowBytes gRPC/HTTP/2 initial flow-control window
 * @param tcpNoDelay disable Nagle (token streams and pings must not wait)
 * @param probeIntervalMillis how often the path monitor pings this path
 * @param probeDeadlineMillis how long one probe may take before it counts as lost
 * @param missedProbesToDown consecutive lost probes that mark the path down
 */
public record TuningProfile(
    PathKind kind,
    int sendBufferBytes,
    int receiveBufferBytes,
    int writeBufferLowWaterMark,
    int writeBufferHighWaterMark,
    int flowControlWindowBytes,
    boolean tcpNoDelay,
    int probeIntervalMillis,
    int probeDeadlineMillis,
    int missedProbesToDown) {

  private static final int MIB = 1024 * 1024;

  public TuningProfile {
    requireNonNegative("sendBufferBytes", sendBufferBytes);
    requireNonNegative("receiveBufferBytes", receiveBufferBytes);
    requirePositive("writeBufferLowWaterMark", writeBufferLowWaterMark);
    if (writeBufferHighWaterMark < writeBufferLowWaterMark) {
      throw new IllegalArgumentException(
          "writeBufferHighWaterMark: " + writeBufferHighWaterMark + " (expected: >= "
              + writeBufferLowWaterMark + ", the low water mark)");
    }
    if (flowControlWindowBytes < 65535) {
      throw new IllegalArgumentException(
          "flowControlWindowBytes: " + flowControlWindowBytes + " (expected: >= 65535)");
    }
    requirePositive("probeIntervalMillis", probeIntervalMillis);
    requirePositive("probeDeadlineMillis", probeDeadlineMillis);
    requirePositive("missedProbesToDown", missedProbesToDown);
  }

  private static void requireNonNegative(String name, int value) {
    if (value < 0) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: >= 0)");
    }
  }

  private static void requirePositive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
  }

  /** The default profile for a path kind. */
  public static TuningProfile defaults(PathKind kind) {
    switch (kind) {
      case THUNDERBOLT:
        return new TuningProfile(kind, 8 * MIB, 8 * MIB, 4 * MIB, 16 * MIB, 16 * MIB, true, 250, 400, 3);
      case LOOPBACK:
        return new TuningProfile(kind, 4 * MIB, 4 * MIB, 2 * MIB, 8 * MIB, 16 * MIB, true, 250, 400, 3);
      case LAN:
        return new TuningProfile(kind, 0, 0, 1 * MIB, 4 * MIB, 4 * MIB, true, 250, 500, 3);
      case WIFI:
      default:
        return new TuningProfile(kind, 0, 0, 512 * 1024, 2 * MIB, 2 * MIB, true, 250, 600, 3);
    }
  }

  /** The most one read takes from a socket (Netty's default: 64 KiB). */
  public static final int MAX_READ_BYTES = 1024 * 1024;

  /**
   * How much one read takes from a socket: Netty's adaptive guess, as by default, but growing to
   * {@value #MAX_READ_BYTES} bytes instead of 64 KiB while reads fill their buffer (a file arriving
   * faster than the event loop reads it), and shrinking back when they come back short. A channel
   * takes it when it is made: its first read fixes the guessing, so the host's bulk channels, which
   * are the link server's children until their preface is read, get it as a child option. A 1 GiB
   * `cp` to a host on loopback took 16,444 reads of the host at 64 KiB, 1,143 at up to 1 MiB, and
   * the host's CPU fell from 2.40 s to 1.25 s (medians of 8 alternating runs on fresh daemons;
   * warm, ~2.0-2.2 s to ~1.1-1.3 s): 16 times fewer reads, buffers, frame pieces handed to the
   * disk thread and file writes.
   */
  private static final AdaptiveRecvByteBufAllocator RECEIVE_SIZES = new AdaptiveRecvByteBufAllocator(
      AdaptiveRecvByteBufAllocator.DEFAULT_MINIMUM, AdaptiveRecvByteBufAllocator.DEFAULT_INITIAL, MAX_READ_BYTES);

  /** Applies the socket options to a client bootstrap, or to a server's child channels. */
  public void applyTo(AbstractBootstrap<?, ?> bootstrap) {
    for (Map.Entry<ChannelOption<?>, Object> e : channelOptions().entrySet()) {
      @SuppressWarnings("unchecked")
      ChannelOption<Object> option = (ChannelOption<Object>) e.getKey();
      bootstrap.option(option, e.getValue());
    }
  }

  /** The socket options as Netty channel options (buffers only when set). */
  public Map<ChannelOption<?>, Object> channelOptions() {
    Map<ChannelOption<?>, Object> options = new LinkedHashMap<>();
    options.put(ChannelOption.TCP_NODELAY, tcpNoDelay);
    options.put(ChannelOption.SO_KEEPALIVE, true);
    options.put(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_SIZES);
    options.put(
        ChannelOption.WRITE_BUFFER_WATER_MARK,
        new WriteBufferWaterMark(writeBufferLowWaterMark, writeBufferHighWaterMark));
    if (sendBufferBytes > 0) {
      options.put(ChannelOption.SO_SNDBUF, sendBufferBytes);
    }
    if (receiveBufferBytes > 0) {
      options.put(ChannelOption.SO_RCVBUF, receiveBufferBytes);
    }
    return options;
  }
}
