package dev.thunderlink.sync;

import dev.thunderlink.proto.sync.ApplyResponse;
import dev.thunderlink.proto.sync.WriteFilesResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts a workstation's SyncEndpoint calls by method and keeps the answers of its InstallStaged calls. */
final class SyncCallLog implements ClientInterceptor {
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final List<ApplyResponse> installed = new CopyOnWriteArrayList<>();

  Channel wrap(Channel channel) {
    return ClientInterceptors.intercept(channel, this);
  }

  int calls(String method) {
    AtomicInteger n = calls.get(method);
    return n == null ? 0 : n.get();
  }

  /** How many files InstallStaged answered with this outcome. */
  long installs(ApplyResponse.Outcome outcome) {
    return installed.stream().filter(r -> r.getOutcome() == outcome).count();
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    String name = method.getBareMethodName();
    calls.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
    return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
          @Override
          public void onMessage(R message) {
            if (name.equals("InstallStaged") && message instanceof WriteFilesResponse w) {
              installed.addAll(w.getResultsList());
            }
            super.onMessage(message);
          }
        }, headers);
      }
    };
  }
}
