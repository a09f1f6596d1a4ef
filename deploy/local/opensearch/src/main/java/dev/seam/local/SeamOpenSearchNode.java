package dev.seam.local;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single-node OpenSearch for local development and Seam's integration tests, started from Maven Central jars.
 *
 * <p>The distribution's bootstrap (security manager, jar-hell and root checks, plugin directory scanning) is
 * skipped on purpose: we construct {@link Node} directly with the modules Seam needs on the classpath. Not for
 * production use — no security plugin, HTTP on loopback only.
 *
 * <p>Usage: {@code java -cp ... dev.seam.local.SeamOpenSearchNode <home-dir> [host] [http-port] [transport-port]}
 */
public final class SeamOpenSearchNode extends Node {

    private static final List<Class<? extends Plugin>> PLUGINS = List.of(
        Netty4Plugin.class,
        CommonAnalysisPlugin.class,
        PainlessPlugin.class,
        ReindexPlugin.class,
        MapperExtrasPlugin.class
    );

    private SeamOpenSearchNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        // forbidPrivateIndexSettings=true matches what the distribution does.
        super(environment, plugins, true);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: SeamOpenSearchNode <home-dir> [host] [http-port] [transport-port]");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        String host = args.length > 1 ? args[1] : "127.0.0.1";
        String httpPort = args.length > 2 ? args[2] : "9200";
        String transportPort = args.length > 3 ? args[3] : "9300";
        Path config = home.resolve("config");
        Files.createDirectories(config);
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));

        Settings settings = Settings.builder()
            .put("cluster.name", "seam-local")
            .put("node.name", "seam-local-0")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("discovery.type", "single-node")
            .put("network.host", host)
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            // Dev machines and CI often run with full-ish disks; do not turn indices read-only.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", true)
            .build();

        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), config, () -> "seam-local-0");
        LogConfigurator.setNodeName("seam-local-0");
        LogConfigurator.configure(environment);

        SeamOpenSearchNode node = new SeamOpenSearchNode(environment, PLUGINS);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                System.err.println("seam-opensearch: error while closing: " + e);
            } finally {
                stopped.countDown();
            }
        }, "seam-opensearch-shutdown"));
        node.start();
        System.out.println("seam-opensearch: started on http://" + host + ":" + httpPort);
        stopped.await();
    }
}
