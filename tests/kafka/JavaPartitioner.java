// Java's own answer to "which partition does this key go to": the reference
// the Rust, Go and Python runtimes are held to (docs/kafka.md,
// "Partitioning"). It calls kafka-clients' Utils.murmur2 and
// Utils.toPositive, the functions of Java's default partitioner; nothing
// here reimplements them. Run as a single-file program on the jars that
// scripts/lib/kafka.sh fetched:
//
//   java -cp "$AMPY_KAFKA_CLASSPATH" tests/kafka/JavaPartitioner.java partitions KEYS
//   java -cp "$AMPY_KAFKA_CLASSPATH" tests/kafka/JavaPartitioner.java placement BOOTSTRAP TOPIC COUNT
//   java -cp "$AMPY_KAFKA_CLASSPATH" tests/kafka/JavaPartitioner.java create-topic BOOTSTRAP TOPIC PARTITIONS
//   java -cp "$AMPY_KAFKA_CLASSPATH" tests/kafka/JavaPartitioner.java delete-topics BOOTSTRAP PREFIX
//
// `partitions` prints, per line of KEYS (`k:` + base64 of the key bytes),
// `k:<base64>\t<murmur2>\t<p(1)>\t<p(3)>\t<p(6)>\t<p(12)>\t<p(100)>`: the
// format every runtime's driver prints for the same file.
//
// `placement` reads every record of TOPIC from the beginning and checks that
// each one sits on the partition Java's rule names for its key and the
// topic's partition count; it prints each misplaced record and exits 1 if
// any is, or if it read other than COUNT records.
//
// `create-topic` creates a scratch topic (replication 1) for `placement`;
// `delete-topics` deletes every topic whose name starts with PREFIX (the
// matrix starts each env from no topics, whatever earlier tests left).

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Utils;

public class JavaPartitioner {
    static final int[] COUNTS = {1, 3, 6, 12, 100};

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("partitions")) {
            partitions(Path.of(args[1]));
        } else if (args.length == 4 && args[0].equals("placement")) {
            System.exit(placement(args[1], args[2], Long.parseLong(args[3])));
        } else if (args.length == 3 && args[0].equals("delete-topics")) {
            deleteTopics(args[1], args[2]);
        } else if (args.length == 4 && args[0].equals("create-topic")) {
            createTopic(args[1], args[2], Integer.parseInt(args[3]));
        } else {
            System.err.println("usage: JavaPartitioner partitions KEYS | placement BOOTSTRAP TOPIC COUNT"
                    + " | create-topic BOOTSTRAP TOPIC PARTITIONS");
            System.exit(2);
        }
    }

    static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    static void deleteTopics(String bootstrap, String prefix) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            List<String> doomed = new ArrayList<>();
            for (String name : admin.listTopics().names().get()) {
                if (name.startsWith(prefix)) {
                    doomed.add(name);
                }
            }
            if (!doomed.isEmpty()) {
                admin.deleteTopics(doomed).all().get();
            }
            // Deletion is asynchronous on the brokers: wait until the names are gone.
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                boolean left = false;
                for (String name : admin.listTopics().names().get()) {
                    left |= name.startsWith(prefix);
                }
                if (!left) {
                    return;
                }
                Thread.sleep(100);
            }
            throw new IllegalStateException("topics with prefix " + prefix + " still exist after 30 s");
        }
    }

    static int partition(byte[] key, int n) {
        return Utils.toPositive(Utils.murmur2(key)) % n;
    }

    static void partitions(Path file) throws Exception {
        StringBuilder out = new StringBuilder();
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            if (!line.startsWith("k:")) {
                throw new IllegalArgumentException("not a key line: " + line);
            }
            byte[] key = Base64.getDecoder().decode(line.substring(2));
            out.append(line).append('\t').append(Utils.murmur2(key));
            for (int n : COUNTS) {
                out.append('\t').append(partition(key, n));
            }
            out.append('\n');
        }
        System.out.print(out);
    }

    static int placement(String bootstrap, String topic, long expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (PartitionInfo info : c.partitionsFor(topic, Duration.ofSeconds(30))) {
                tps.add(new TopicPartition(topic, info.partition()));
            }
            int n = tps.size();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps, Duration.ofSeconds(30));
            Map<TopicPartition, Long> next = new HashMap<>();
            long read = 0, bad = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!done(end, next) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    next.put(tp, r.offset() + 1);
                    read++;
                    byte[] key = r.key();
                    if (key == null) {
                        bad++;
                        System.out.println("null key at " + tp + "@" + r.offset());
                        continue;
                    }
                    int want = partition(key, n);
                    if (want != r.partition()) {
                        bad++;
                        System.out.println("misplaced k:" + Base64.getEncoder().encodeToString(key)
                                + " on partition " + r.partition() + ", Java says " + want);
                    }
                }
            }
            if (read != expected) {
                System.out.println("read " + read + " records of " + topic + ", expected " + expected);
                return 1;
            }
            if (bad > 0) {
                System.out.println(bad + " of " + read + " records misplaced");
                return 1;
            }
            System.out.println("placement ok: " + read + " records on " + n + " partitions of " + topic);
            return 0;
        }
    }

    static boolean done(Map<TopicPartition, Long> end, Map<TopicPartition, Long> next) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (next.getOrDefault(e.getKey(), 0L) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
