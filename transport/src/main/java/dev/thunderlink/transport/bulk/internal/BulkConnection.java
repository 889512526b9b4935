package dev.thunderlink.transport.bulk.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.thunderlink.proto.bulk.Digest;
import dev.thunderlink.proto.bulk.DigestAlgorithm;
import dev.thunderlink.proto.bulk.FileHeader;
import dev.thunderlink.proto.bulk.Verdict;
import dev.thunderlink.transport.TransportFactory;
import dev.thunderlink.transport.bulk.BulkConfig;
import dev.thunderlink.transport.bulk.BulkCounters;
import dev.thunderlink.transport.bulk.BulkException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One bulk connection, either end: decodes frames, feeds incoming files to their {@link
 * FileReceiver}s, and offers senders a blocking, backpressured way to write frames.
 *
 * <p>Design. The event loop never touches a disk: it only decodes and hands each frame to
 * one of the connection's <em>disk threads</em> ({@link BulkConfig#diskThreads()}), chosen
 * by the destination path of the stream's BEGIN: the thread owns that stream's receiver (so
 * receiver state needs no locks, a stream's frames stay in order, and all streams to one
 * path run in order on one thread, as they did when there was a single disk thread), while
 * a tree's many small files are created, written and renamed on several threads at once.
 * When more than {@link BulkConfig#receiveQueueBytes()} wait for the disk, reading pauses
 * ({@code autoRead} off) until the disk threads have drained a quarter of it: a slow disk
 * slows the sender through TCP instead of filling memory. Senders run on their own threads
 * and write each frame as one event-loop task (so frames from several threads never
 * interleave); they block while the bytes in flight — file regions included, which Netty's
 * water marks do not count — exceed the high mark or the channel is not writable.
 *
 * <p>Threads: Netty callbacks on the event loop; receiver work on the stream's disk thread;
 * {@link #writeFrame}, {@link #awaitWritable} on sender threads; {@link #onDigest} from any
 * thread. Event-loop state ({@code live}, {@code maxStream}, {@code authenticated}) is
 * touched on the event loop only; a disk thread's receivers by that thread only; the routes
 * (stream to disk thread) and early digests under {@code routeLock}.
 */
public final class BulkConnection extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(BulkConnection.class);

  /**
   * Ends the reason of a stream failure that sending the file again cures (the ERROR frame
   * carries only text; the verdict says so in {@code retryable}).
   */
  public static final String RESEND = "; send it again";

  /** The role-specific half (server or client). */
  public interface Role {
    /** HELLO, HELLO_OK or GET; on the event loop. The frame is released by the caller. */
    void control(BulkConnection c, Frame f) throws BulkException;

    /**
     * Where an incoming file goes, and whether something may be there already (false lets the
     * receiver of a small file skip looking for a directory in the way, which its rename then
     * finds); a refusal as {@link BulkException}. On a disk thread (several at once).
     */
    PermittedRoots.Target destination(int stream, FileHeader header) throws BulkException;

    /** The verdict of a received file. On a disk thread (several at once). */
    void verdict(int stream, Verdict verdict);

    /** The peer reported a failure of a stream (or of the connection, stream 0). Event loop. */
    void peerError(int stream, String message);

    /** The connection ended; null reason for a clean close. */
    void closed(String reason);

    /** No disk thread has anything queued: send what was batched. On a disk thread. */
    default void idle() {}

    /** Told of each staged file received and verified, or null (see {@link dev.thunderlink.transport.bulk.StagedFileListener}). */
    default dev.thunderlink.transport.bulk.StagedFileListener stagedListener() {
      return null;
    }
  }

  private final Channel ch;
  private final BulkConfig config;
  private final BulkCounters counters;
  private final boolean encrypted;
  private final Role role;
  private final FrameDecoder decoder;
  private final Disk[] disks;
  /** Tasks queued or running on the disk threads; the one that leaves none calls {@link Role#idle}. */
  private final AtomicInteger diskTasks = new AtomicInteger();
  private final long inflightHigh;
  // event loop
  private final Set<Integer> live = new HashSet<>();
  private int maxStream;
  private volatile boolean authenticated;
  /** Reading is paused for the disk; written on the event loop, read by the disk thread too. */
  private volatile boolean paused;
  private long trafficNanos = System.nanoTime() - TRAFFIC_EVERY_NANOS;
  private volatile Runnable traffic = () -> {};
  /** Each open stream's disk thread, from its BEGIN until its receiver is done. */
  private final Map<Integer, Disk> routes = new ConcurrentHashMap<>();
  // under routeLock
  private final Object routeLock = new Object();
  /** Digests that came before their stream's BEGIN. */
  private final Map<Integer, Digest> early = new HashMap<>();
  /** The highest stream routed so far: a digest for a lower one without a route is late, not early. */
  private int maxRouted;
  // any thread
  private final AtomicLong queued = new AtomicLong();
  private final AtomicLong inflight = new AtomicLong();
  private final Object writeLock = new Object();
  private volatile String failure;
  /** {@link #fail} has written (or queued) its ERROR frame and closes the connection itself. */
  private volatile boolean failing;
  /** The session's digest: what senders use, the weakest a receiver accepts. */
  private volatile DigestAlgorithm digest = DigestAlgorithm.DIGEST_ALGORITHM_SHA256;
  /** Whether this connection runs over a path faster than LZ4 compresses (see {@link #fastPath(boolean)}). */
  private volatile boolean fastPath;
  /** This connection as {@link PartialWriters} knows it: its age, and how it is stopped. */
  private final PartialWriters.Connection writer = new PartialWriters.Connection() {
    private final long serial = PartialWriters.nextSerial();

    @Override
    public long serial() {
      return serial;
    }

    @Override
    public void superseded(String reason) {
      supersede(reason);
    }
  };

  /** The role-specific half this connection was installed with. */
  public Role role() {
    return role;
  }

  private BulkConnection(Channel ch, BulkConfig config, BulkCounters counters, boolean encrypted, Role role, boolean authenticated) {
    this.ch = ch;
    this.config = config;
    this.counters = counters;
    this.encrypted = encrypted;
    this.role = role;
    this.authenticated = authenticated;
    this.decoder = new FrameDecoder(config.maxFrameBytes());
    this.disks = new Disk[config.diskThreads()];
    for (int i = 0; i < disks.length; i++) {
      disks[i] = new Disk("thunderlink-bulk-disk-" + ch.id().asShortText() + (disks.length > 1 ? "-" + i : ""));
    }
    this.inflightHigh = Math.max(ch.config().getWriteBufferHighWaterMark(), 2L * config.chunkBytes());
  }

  /**
   * Adds the decoder and the connection to the end of the pipeline, and makes the channel take
   * its buffers from Netty's default allocator (4.2: the adaptive one, which keeps the chunks it
   * frees for reuse). A host's bulk channel is a child of the gRPC server, whose pooled allocator
   * destroys a chunk once it empties: received data waits up to {@link
   * BulkConfig#receiveQueueBytes()} for the disk thread, so every chunk filled and emptied in
   * turn, and each new one was zeroed by the JDK and page-faulted in on the event loop. A push
   * of 1 GiB spent 0.75 s of the host's event loop there (of 2.3 s), and its disk thread copied
   * from that cold memory at half speed (1.46 s against 0.6 s; perf, loopback).
   * Event loop or before registration.
   */
  public static BulkConnection install(
      Channel ch, BulkConfig config, BulkCounters counters, boolean encrypted, Role role, boolean authenticated) {
    BulkConnection c = new BulkConnection(ch, config, counters, encrypted, role, authenticated);
    ch.config().setAllocator(ByteBufAllocator.DEFAULT);
    long idle = config.stallTimeout().toMillis() * 2;
    ch.pipeline()
        .addLast("bulk-idle", new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS))
        .addLast("bulk-frames", c.decoder)
        .addLast("bulk-connection", c);
    return c;
  }

  /**
   * Called (on the event loop, at most every 50 ms) while the peer shows itself alive on this
   * connection: a frame arrives, the channel turns writable again because the peer took in
   * what was queued, or a write that waited behind a full send buffer goes out (the peer's TCP
   * acknowledged earlier bytes; what a push, where the peer sends almost nothing, relies on), or
   * (see {@link #watchAcks}) the kernel reports data acknowledged. A pulled cable does none of
   * these once the socket buffers are full.
   */
  public void onTraffic(Runnable r) {
    traffic = r;
    if (TransportFactory.readsTcpInfo(ch)) {
      ch.eventLoop().execute(this::watchAcks);
    }
  }

  /**
   * Where the transport reads the kernel's TCP state, polls it every 50 ms: data that left this
   * end recently and was acknowledged after it left is the peer taking in what this end sends,
   * even while this end writes nothing more and receives nothing (the last few MiB of a push
   * sit in the socket buffers and drain for seconds on a slow path; a 6 MiB push at 16 Mbit/s
   * had its path declared down mid-way). A pulled cable acknowledges nothing, so failover takes
   * at most {@link #ACK_RECENT_MILLIS} longer. Loopback acknowledges at once, so tcpi_unacked
   * is mostly 0 and says nothing. Event loop; once per connection.
   */
  private void watchAcks() {
    if (ackPoll != null || !ch.isOpen()) {
      return;
    }
    ackPoll = ch.eventLoop().scheduleAtFixedRate(() -> {
      if (TransportFactory.sentDataAcknowledged(ch, ACK_RECENT_MILLIS)) {
        traffic();
      }
    }, TRAFFIC_EVERY_NANOS, TRAFFIC_EVERY_NANOS, TimeUnit.NANOSECONDS);
    ScheduledFuture<?> poll = ackPoll;
    ch.closeFuture().addListener(x -> poll.cancel(false));
  }

  /** The TCP state poll of {@link #watchAcks}, once started; event loop. */
  private ScheduledFuture<?> ackPoll;

  /**
   * How old the last acknowledged data may be to count; the emulated 16 Mbit/s path let data out
   * in bursts about 250 ms apart.
   */
  private static final long ACK_RECENT_MILLIS = 300;

  private void traffic() {
    long now = System.nanoTime();
    if (now - trafficNanos >= TRAFFIC_EVERY_NANOS) {
      trafficNanos = now;
      traffic.run();
    }
  }

  private static final long TRAFFIC_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /** Where the bytes of a transfer to {@code dest} collect until verified (kept for resume). */
  public static Path partialPath(Path dest) {
    return FileReceiver.partialPath(dest);
  }

  public Channel channel() {
    return ch;
  }

  public boolean encrypted() {
    return encrypted;
  }

  public BulkConfig config() {
    return config;
  }

  public BulkCounters counters() {
    return counters;
  }

  /** The content hash agreed for this connection's session (SHA-256 until set). */
  public DigestAlgorithm digest() {
    return digest;
  }

  /** Sets the agreed content hash, before any file moves. Any thread. */
  public void digest(DigestAlgorithm v) {
    digest = v == DigestAlgorithm.DIGEST_ALGORITHM_XXH3_128 ? v : DigestAlgorithm.DIGEST_ALGORITHM_SHA256;
  }

  /**
   * Whether the path under this connection carries bytes faster than one core compresses them
   * with LZ4 (Thunderbolt, loopback: tens of Gbit/s against LZ4's ~0.4-0.8 GB/s): senders then
   * send files of at most one LZ4 block raw (see {@link FileSender}). False (the default) where
   * the path is not known, e.g. on the host's end. Any thread, before files move.
   */
  public void fastPath(boolean v) {
    fastPath = v;
  }

  public boolean fastPath() {
    return fastPath;
  }

  /** Marks the peer authenticated (after a good HELLO). Event loop. */
  public void authenticated() {
    authenticated = true;
  }

  /** Why the connection failed, or null while it is up. */
  public String failure() {
    return failure;
  }

  // ---- sending ---------------------------------------------------------------------------

  /**
   * Writes several frames in order as one event-loop task (one wakeup for many small files).
   * Each element is {header or null, payload or null, Long bytes}; a payload is what the
   * connection watches go out (see {@link #whenWritten}), so frames whose end shows the peer
   * taking data in travel as payloads. Any thread.
   */
  public void writeFrames(java.util.List<Object[]> frames, boolean flush) {
    long total = 0;
    for (Object[] f : frames) {
      total += (Long) f[2];
    }
    long bytes = total;
    inflight.addAndGet(bytes);
    Runnable task =
        () -> {
          boolean backlog = backlog();
          ChannelFuture last = null;
          for (Object[] f : frames) {
            if (f[0] != null) {
              ch.write(f[0], ch.voidPromise());
            }
            if (f[1] != null) {
              last = ch.write(f[1]);
            }
          }
          if (flush) {
            ch.flush();
          }
          if (last == null) {
            written(bytes);
          } else {
            whenWritten(last, bytes, backlog && flush);
          }
        };
    if (ch.eventLoop().inEventLoop()) {
      task.run();
    } else {
      try {
        ch.eventLoop().execute(task);
      } catch (RejectedExecutionException e) {
        for (Object[] f : frames) {
          ReferenceCountUtil.release(f[0]);
          ReferenceCountUtil.release(f[1]);
        }
        written(bytes);
      }
    }
  }

  /** A whole small frame. Any thread. */
  public void writeFrame(ByteBuf frame, boolean flush) {
    writeFrames(java.util.List.<Object[]>of(new Object[] {frame, null, (long) frame.readableBytes()}), flush);
  }

  public void flush() {
    ch.flush();
  }

  /**
   * Whether bytes sent earlier are still waiting to go out (the kernel's send buffer is full,
   * or, on io_uring, a write is still in the kernel). Event loop.
   */
  private boolean backlog() {
    ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
    return out != null && out.totalPendingWriteBytes() > 0;
  }

  /**
   * Counts {@code bytes} out of flight once {@code f} completes, and, if the write had to wait
   * behind earlier bytes ({@code waited}) and was not taken at once by the kernel, reports the
   * completion as traffic: the send buffer drained, which on TCP only happens as the peer
   * acknowledges what it received. This is what shows the path alive during a push, when the
   * peer sends nothing back (a cp of a 20,000-file tree to the host had its path declared down
   * mid-copy, its probes starved behind the data, and the control stream cut). A write the kernel
   * took at once proves nothing — it goes into the send buffer even with the cable pulled — so
   * it does not count; with the cable pulled the buffer fills and nothing completes any more.
   * Event loop.
   */
  private void whenWritten(ChannelFuture f, long bytes, boolean waited) {
    if (!waited || f.isDone()) {
      f.addListener(x -> written(bytes));
      return;
    }
    f.addListener(
        x -> {
          written(bytes);
          if (x.isSuccess()) {
            traffic();
          }
        });
  }

  private void written(long bytes) {
    if (inflight.addAndGet(-bytes) <= inflightHigh) {
      synchronized (writeLock) {
        writeLock.notifyAll();
      }
    }
  }

  /**
   * Blocks the sender thread until more may be written: the channel is writable and the
   * bytes in flight are under the high mark. Never call on the event loop.
   *
   * @throws BulkException (retryable) if the connection fails or the peer stops reading for
   *     longer than the stall timeout
   */
  public void awaitWritable() throws BulkException {
    long deadline = System.nanoTime() + config.stallTimeout().toNanos();
    synchronized (writeLock) {
      while (true) {
        if (failure != null || !ch.isActive()) {
          throw new BulkException(failure != null ? failure : "bulk connection closed", true);
        }
        if (ch.isWritable() && inflight.get() <= inflightHigh) {
          return;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          String msg = "the peer stopped reading for " + config.stallTimeout().toSeconds() + " s";
          fail(msg);
          throw new BulkException(msg, true);
        }
        try {
          writeLock.wait(Math.max(1, Math.min(left / 1_000_000, 100)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new BulkException("interrupted while sending", false);
        }
      }
    }
  }

  /** Reports a stream failure to the peer (receiver side). Any thread. */
  public void sendError(int stream, String message) {
    writeFrame(Frame.encode(ch.alloc(), Frame.ERROR, stream, oneLine(message)), true);
  }

  /** Fails the whole connection with a reason sent to the peer, then closes. Any thread. */
  public void fail(String reason) {
    if (failure == null) {
      failure = reason;
    }
    if (ch.isActive() && !failing) {
      failing = true;
      // Linger after the ERROR frame, reading (and dropping) until the peer, having read it, hangs
      // up: closing while it still sends makes its next write fail (or our unread data sends a
      // reset), and a peer that sees its write fail first reports a lost connection, not why.
      ch.writeAndFlush(Frame.encode(ch.alloc(), Frame.ERROR, 0, oneLine(reason))).addListener(f -> {
        ch.config().setAutoRead(true);
        ch.eventLoop().schedule(() -> ch.close(), FAIL_LINGER_MILLIS, TimeUnit.MILLISECONDS);
      });
      // and closes even if the frame never goes out (the peer stopped reading, a path cut
      // silently), as close() does
      ch.eventLoop().schedule(() -> ch.close(), config.stallTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }
    synchronized (writeLock) {
      writeLock.notifyAll();
    }
  }

  /**
   * Closes once everything written so far has gone out (a close right after a CANCEL must
   * not drop it), or after the stall timeout if the peer stopped reading. Any thread.
   */
  public void close() {
    ch.eventLoop()
        .execute(
            () -> {
              ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
              ch.eventLoop().schedule(() -> ch.close(), config.stallTimeout().toMillis(), TimeUnit.MILLISECONDS);
            });
  }

  /**
   * How long, at most, {@link #fail} keeps the connection open after its ERROR frame went out,
   * for a peer that neither reads it nor hangs up; one that does closes it at once. Not less than
   * a few seconds: a peer pushing a file reads nothing while its event loop works through the
   * queued writes (Netty runs tasks for up to a second before it looks at the socket again), and
   * 500 ms was too short on a loaded machine for a TLS push (its write failed with EPIPE first).
   */
  private static final long FAIL_LINGER_MILLIS = 5000;

  /**
   * Closes now, dropping unsent frames (the path died). Any thread.
   *
   * <p>After {@link #fail} it leaves the close to fail's linger, so that the peer can read why,
   * closing itself only if that has not happened within twice the linger (an ERROR frame stuck
   * behind unsent data, the peer not reading). A host shutting down fails its bulk connections,
   * then cuts their sessions' Verify calls, and the host's end of a cut Verify aborts its
   * connection: closing at once, with the client's data unread here, reset the connection a few
   * milliseconds after the ERROR frame, and a client behind a relay (the emulated Wi-Fi of the
   * two-daemon SIGTERM test, 1 run in 4) said "bulk connection closed" instead of the reason.
   */
  public void abort() {
    if (!failing) {
      ch.close();
      return;
    }
    try {
      ch.eventLoop().schedule(() -> ch.close(), 2 * FAIL_LINGER_MILLIS, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      ch.close();
    }
  }

  static String oneLine(String s) {
    String t = s == null ? "unknown error" : s.replace('\n', ' ').replace('\r', ' ');
    return t.length() > 1000 ? t.substring(0, 1000) + "…" : t;
  }

  // ---- receiving: event loop ---------------------------------------------------------

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Frame f = (Frame) msg;
    boolean handedOff = false;
    try {
      traffic();
      if (failure != null) {
        return;
      }
      if (!authenticated && f.type != Frame.HELLO && f.type != Frame.ERROR) {
        protocolError("expected HELLO as the first frame, got " + Frame.typeName(f.type));
        return;
      }
      switch (f.type) {
        case Frame.HELLO:
        case Frame.HELLO_OK:
        case Frame.GET:
          if (f.type == Frame.GET && f.stream <= maxStream) {
            protocolError("GET for stream " + f.stream + " which was already used");
            return;
          }
          maxStream = Math.max(maxStream, f.stream);
          role.control(this, f);
          return;
        case Frame.BEGIN:
          onBegin(f);
          return;
        case Frame.DATA_RAW:
        case Frame.DATA_LZ4:
          handedOff = onData(f);
          return;
        case Frame.END:
        case Frame.CANCEL:
          onEndOrCancel(f);
          return;
        case Frame.ERROR:
          role.peerError(f.stream, f.text());
          if (f.stream == 0) {
            if (failure == null) {
              failure = "the peer closed the bulk connection: " + f.text();
            }
            ctx.close();
          } else if (live.remove(f.stream)) {
            String why = f.text();
            int s = f.stream;
            Disk d = routes.get(s);
            if (d != null) {
              onDisk(d, () -> cancel(d, s, why));
            }
          }
          return;
        default:
          protocolError("unknown frame " + Frame.typeName(f.type) + " on stream " + f.stream);
      }
    } catch (BulkException e) {
      protocolError(e.getMessage());
    } finally {
      if (!handedOff) {
        f.release();
      }
    }
  }

  private void onBegin(Frame f) {
    int s = f.stream;
    if (s <= 0 || live.contains(s)) {
      protocolError("BEGIN for stream " + s + " which is " + (s <= 0 ? "reserved" : "already open"));
      return;
    }
    FileHeader h;
    try {
      h = FileHeader.parseFrom(f.payload.nioBuffer());
    } catch (InvalidProtocolBufferException e) {
      protocolError("unreadable BEGIN on stream " + s + ": " + e.getMessage());
      return;
    }
    live.add(s);
    maxStream = Math.max(maxStream, s);
    Disk d = disks[Math.floorMod(h.getPath().hashCode(), disks.length)];
    synchronized (routeLock) {
      // queued under the lock: a digest that finds the route is queued behind the BEGIN
      routes.put(s, d);
      maxRouted = Math.max(maxRouted, s);
      Digest early = this.early.remove(s);
      onDisk(d, () -> begin(d, s, h, early));
    }
  }

  private boolean onData(Frame f) {
    int s = f.stream;
    if (!live.contains(s)) {
      if (s > 0 && s <= maxStream) {
        return false; // a stream that already ended or failed; the sender had it in flight
      }
      protocolError("data for unknown stream " + s);
      return false;
    }
    Disk d = routes.get(s);
    if (d == null) {
      return false; // its receiver failed already
    }
    long n = f.payload.readableBytes();
    if (queued.addAndGet(n) > config.receiveQueueBytes() && !paused) {
      paused = true;
      ch.config().setAutoRead(false);
      if (queued.get() < config.receiveQueueBytes() / 4) {
        resume(); // the disk drained it meanwhile and may have seen paused still false
      }
    }
    onDisk(
        d,
        () -> {
          try {
            data(d, s, f.type, f.payload);
          } finally {
            f.release();
            drained(n);
          }
        });
    return true;
  }

  private void onEndOrCancel(Frame f) {
    int s = f.stream;
    if (!live.remove(s)) {
      if (s > 0 && s <= maxStream) {
        return;
      }
      protocolError(Frame.typeName(f.type) + " for unknown stream " + s);
      return;
    }
    Disk d = routes.get(s);
    if (d == null) {
      return; // its receiver failed already
    }
    if (f.type == Frame.END) {
      onDisk(d, () -> end(d, s));
    } else {
      String why = f.text();
      onDisk(d, () -> cancel(d, s, "the sender cancelled: " + why));
    }
  }

  /**
   * A disk thread, after each data frame. Wakes the event loop only while reading is paused: it
   * did after every frame that left the queue short, i.e. after nearly every one, which cost a
   * task and an eventfd wake-up per file for a tree of small files. The event loop checks the
   * queue again right after pausing, so a drain that saw {@code paused} still false is not lost.
   */
  private void drained(long n) {
    if (queued.addAndGet(-n) < config.receiveQueueBytes() / 4 && paused) {
      ch.eventLoop().execute(this::resume);
    }
  }

  /** Reading on again if it is paused and the queue is short. Event loop. */
  private void resume() {
    if (paused && queued.get() < config.receiveQueueBytes() / 4) {
      paused = false;
      ch.config().setAutoRead(true);
      ch.read();
    }
  }

  private void protocolError(String message) {
    if (failing) {
      return; // the rest of what a broken peer sends while fail() lingers: it was told once
    }
    log.warn("bulk connection with {}: {}", ch.remoteAddress(), message);
    fail(message);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      // a pulled cable leaves the connection silent, not closed
      String why = "no traffic for " + config.stallTimeout().toSeconds() * 2 + " s";
      if (failure == null) {
        failure = why;
      }
      log.info("bulk connection with {}: {}; closing it", ch.remoteAddress(), why);
      ctx.close();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      traffic();
    }
    synchronized (writeLock) {
      writeLock.notifyAll();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable c = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
        && !(cause instanceof FrameDecoder.FrameTooLargeException) ? cause.getCause() : cause;
    if (c instanceof FrameDecoder.FrameTooLargeException) {
      protocolError(c.getMessage());
    } else if (c instanceof IOException) {
      if (failure == null) {
        failure = "bulk connection lost: " + (c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage());
      }
      ctx.close();
    } else {
      protocolError("bulk connection failed: " + c);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    String partial = decoder.partialFrame();
    String reason = failure;
    if (reason == null && partial != null) {
      reason = "the peer closed the connection in the middle of a " + partial;
    } else if (reason == null && !live.isEmpty()) {
      reason = "the peer closed the connection with " + live.size() + " transfer(s) open";
    }
    if (failure == null) {
      failure = reason == null ? "bulk connection closed" : reason;
    }
    if (reason != null) {
      log.info("bulk connection with {} ended: {}", ch.remoteAddress(), reason);
    }
    synchronized (writeLock) {
      writeLock.notifyAll();
    }
    for (Disk d : disks) {
      onDisk(d, () -> lost(d));
      d.exec.shutdown();
    }
    synchronized (routeLock) {
      early.clear();
    }
    role.closed(reason);
    ctx.fireChannelInactive();
  }

  // ---- receiving: disk threads -------------------------------------------------------

  /** One disk thread and the receivers of the streams routed to it (touched on it only). */
  private static final class Disk {
    final ExecutorService exec;
    final Map<Integer, FileReceiver> receivers = new HashMap<>();
    final FileReceiver.Scratch scratch = new FileReceiver.Scratch();

    Disk(String name) {
      exec =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
              });
    }
  }

  private void onDisk(Disk d, Runnable r) {
    diskTasks.incrementAndGet();
    try {
      d.exec.execute(
          () -> {
            try {
              r.run();
            } finally {
              if (diskTasks.decrementAndGet() == 0) {
                role.idle();
              }
            }
          });
    } catch (RejectedExecutionException e) {
      diskTasks.decrementAndGet();
      // the connection is gone; the receivers were abandoned already
    }
  }

  /** The sender's digest for a stream, from the control plane. Any thread. */
  public void onDigest(int stream, Digest digest) {
    Disk d;
    synchronized (routeLock) {
      d = routes.get(stream);
      if (d == null) {
        if (stream > maxRouted) {
          early.put(stream, digest); // its BEGIN takes it
        }
        return; // else a stream already done or failed
      }
    }
    onDisk(
        d,
        () -> {
          FileReceiver r = d.receivers.get(stream);
          if (r != null) {
            r.digest(digest);
            maybeFinish(d, r);
          }
        });
  }

  /**
   * A newer connection (the sender's, after a failover) took a file of this one over: the
   * files still queued here are not begun, and the connection closes. Its bytes still in
   * flight are stale; the sender no longer waits for them. Any thread.
   */
  private void supersede(String reason) {
    if (failure != null) {
      return; // ending already
    }
    log.info("bulk connection with {} superseded: {}", ch.remoteAddress(), reason);
    fail("bulk connection superseded: " + reason); // the peer, if it still listens, hears why
  }

  private void begin(Disk d, int s, FileHeader h, Digest early) {
    if (failure != null || !ch.isActive()) {
      // the connection is ending (failed, superseded, lost): a file begun now would only leave
      // its partial behind, and nobody would hear its verdict
      routes.remove(s);
      return;
    }
    FileReceiver r = null;
    try {
      PermittedRoots.Target dest = role.destination(s, h);
      if (Hashing.isXxh3(h.getDigest()) && !Hashing.isXxh3(digest)) {
        throw new BulkException(
            "refused " + h.getPath() + ": the sender hashed it with XXH3-128, but this session verifies with SHA-256"
                + " (bulk.digest)", false);
      }
      r = new FileReceiver(s, h, dest.path(), dest.exists(), counters, d.scratch, role.stagedListener(), writer);
      r.open();
      d.receivers.put(s, r);
      if (early != null) {
        r.digest(early);
      }
    } catch (BulkException e) {
      streamFailed(s, null, e.getMessage());
    } catch (FileReceiver.ResumeGone e) {
      streamFailed(s, r, e.getMessage() + RESEND, true);
    } catch (IOException e) {
      streamFailed(s, r, "cannot write " + (r == null ? h.getPath() : r.dest) + ": " + e.getMessage());
    }
  }

  private void data(Disk d, int s, byte type, ByteBuf buf) {
    FileReceiver r = d.receivers.get(s);
    if (r == null) {
      return;
    }
    try {
      r.data(type, buf);
    } catch (IOException e) {
      d.receivers.remove(s);
      streamFailed(s, r, "cannot write " + r.dest + ": " + e.getMessage());
    }
  }

  private void end(Disk d, int s) {
    FileReceiver r = d.receivers.get(s);
    if (r != null) {
      r.end();
      maybeFinish(d, r);
    }
  }

  private void cancel(Disk d, int s, String reason) {
    FileReceiver r = d.receivers.remove(s);
    if (r != null) {
      routes.remove(s);
      role.verdict(s, r.fail(reason));
    }
  }

  private void maybeFinish(Disk d, FileReceiver r) {
    if (r.ready()) {
      d.receivers.remove(r.stream);
      routes.remove(r.stream);
      Verdict v = r.finish();
      if (!v.getOk()) {
        log.warn("bulk: {}", v.getError());
      }
      role.verdict(r.stream, v);
    }
  }

  private void streamFailed(int s, FileReceiver r, String message) {
    streamFailed(s, r, message, false);
  }

  /** A stream's receiver failed (or none could be made): its route goes, the peer is told. */
  private void streamFailed(int s, FileReceiver r, String message, boolean retryable) {
    routes.remove(s);
    Verdict v =
        r != null
            ? r.fail(message)
            : Verdict.newBuilder().setOk(false).setError(message).build();
    if (retryable) {
      v = v.toBuilder().setRetryable(true).build();
    }
    if (r == null) {
      counters.fileFailed();
    }
    log.warn("bulk: {}", v.getError());
    role.verdict(s, v);
    sendError(s, v.getError());
  }

  private void lost(Disk d) {
    for (FileReceiver r : d.receivers.values()) {
      routes.remove(r.stream);
      r.abandon();
    }
    d.receivers.clear();
  }
}
