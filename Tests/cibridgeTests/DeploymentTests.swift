import CIBridgeTestSupport
import Foundation
import Testing
import Yams

/// The deployment files parse and say what they must (no Docker engine or
/// cluster runs here: these are static checks).
@Suite("Deployment files")
struct DeploymentTests {
    func load(_ path: String) throws -> [Any] {
        let text = try String(contentsOf: CLIRunner.repositoryRoot.appendingPathComponent(path), encoding: .utf8)
        return try Array(Yams.load_all(yaml: text)).compactMap { $0 }
    }

    func dictionary(_ value: Any?) -> [String: Any] { value as? [String: Any] ?? [:] }

    @Test("deploy/docker-compose.sentinel.yml: a primary, two replicas, three sentinels; cibridge through the sentinels with min_replicas 1")
    func sentinelCompose() throws {
        let compose = dictionary(try load("deploy/docker-compose.sentinel.yml").first)
        let services = dictionary(compose["services"])
        #expect(Set(services.keys).isSuperset(of: ["redis-primary", "redis-replica-1", "redis-replica-2", "sentinel-1", "sentinel-2", "sentinel-3", "cibridge"]))
        for replica in ["redis-replica-1", "redis-replica-2"] {
            #expect((dictionary(services[replica])["command"] as? [String])?.contains("--replicaof") == true, "\(replica)")
        }
        for sentinel in ["sentinel-1", "sentinel-2", "sentinel-3"] {
            let command = (dictionary(services[sentinel])["command"] as? [String])?.joined(separator: " ") ?? ""
            #expect(command.contains("sentinel monitor cibridge redis-primary 6379 2"), "\(sentinel): \(command)")
        }
        let environment = dictionary(dictionary(services["cibridge"])["environment"])
        let url = try #require(environment["CIBRIDGE_REDIS_URL"] as? String)
        #expect(url == "redis-sentinel://sentinel-1:26379,sentinel-2:26379,sentinel-3:26379/cibridge")
        #expect(environment["CIBRIDGE_REDIS_MIN_REPLICAS"] as? String == "1")
        // The configuration it gives is one cibridge accepts.
        let checked = try CLIRunner.run(
            ["config", "check"], environment: ["CIBRIDGE_REDIS_URL": url, "CIBRIDGE_REDIS_MIN_REPLICAS": "1"])

        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout.contains("redis-sentinel://sentinel-1:26379,sentinel-2:26379,sentinel-3:26379/cibridge"))
        #expect(checked.stdout.contains("min_replicas: 1"))
    }

    @Test("docker-compose.yml: Kafka in KRaft, Redis with persistence, cibridge with an outbox volume and health checks, a consumer of each")
    func compose() throws {
        let compose = dictionary(try load("docker-compose.yml").first)
        let services = dictionary(compose["services"])
        #expect(Set(services.keys) == ["kafka", "redis", "cibridge", "consumer", "redis-consumer"])
        let kafka = dictionary(services["kafka"])
        #expect((kafka["image"] as? String)?.hasPrefix("apache/kafka:") == true)
        #expect(dictionary(kafka["environment"])["KAFKA_PROCESS_ROLES"] as? String == "broker,controller")
        let redis = dictionary(services["redis"])
        #expect((redis["image"] as? String)?.hasPrefix("redis:7") == true)
        #expect((redis["command"] as? [String])?.contains("--appendonly") == true)
        let bridge = dictionary(services["cibridge"])
        #expect(bridge["build"] as? String == ".")
        #expect((bridge["volumes"] as? [String])?.contains("outbox:/var/lib/cibridge/outbox") == true)
        #expect(bridge["healthcheck"] != nil && kafka["healthcheck"] != nil && redis["healthcheck"] != nil)
        #expect((dictionary(services["consumer"])["command"] as? [String])?.first == "consume")
        let redisConsumer = dictionary(services["redis-consumer"])["command"] as? [String] ?? []
        #expect(redisConsumer.starts(with: ["consume", "redis"]) && redisConsumer.contains("--topic") && redisConsumer.contains("--group"))
        #expect(dictionary(compose["volumes"]).keys.contains("outbox"))
    }

    @Test("Kubernetes: a StatefulSet with a volume per replica, probes, a grace period longer than the flush, scrape annotations; Service, PDB, Secret")
    func kubernetes() throws {
        let set = dictionary(try load("deploy/kubernetes/statefulset.yaml").first)
        #expect(set["kind"] as? String == "StatefulSet")
        let spec = dictionary(set["spec"])
        #expect((spec["volumeClaimTemplates"] as? [Any])?.isEmpty == false)
        let pod = dictionary(dictionary(spec["template"])["spec"])
        #expect((pod["terminationGracePeriodSeconds"] as? Int ?? 0) > 10)
        let container = dictionary((pod["containers"] as? [Any])?.first)
        #expect(dictionary(dictionary(container["readinessProbe"])["httpGet"])["path"] as? String == "/readyz")
        #expect(dictionary(dictionary(container["livenessProbe"])["httpGet"])["path"] as? String == "/healthz")
        #expect(dictionary(container["resources"])["requests"] != nil)
        #expect(dictionary(pod["securityContext"])["runAsNonRoot"] as? Bool == true)
        let annotations = dictionary(dictionary(dictionary(spec["template"])["metadata"])["annotations"])
        #expect(annotations["prometheus.io/scrape"] as? String == "true")
        #expect(dictionary(try load("deploy/kubernetes/service.yaml").first)["kind"] as? String == "Service")
        #expect(dictionary(try load("deploy/kubernetes/poddisruptionbudget.yaml").first)["kind"] as? String == "PodDisruptionBudget")
        let secret = dictionary(try load("deploy/kubernetes/secret.example.yaml").first)
        #expect(dictionary(secret["stringData"]).keys.contains("CIBRIDGE_HTTP_TOKEN"))
    }

    @Test("The example configuration and the ConfigMap's pass cibridge config check")
    func configurations() throws {
        let configMap = dictionary(try load("deploy/kubernetes/configmap.yaml").first)
        let embedded = try #require(dictionary(configMap["data"])["cibridge.yaml"] as? String)
        let directory = try TemporaryDirectory("configmap")
        defer { directory.remove() }
        let path = directory.file("cibridge.yaml")
        try embedded.write(toFile: path, atomically: true, encoding: .utf8)
        for file in [CLIRunner.repositoryRoot.appendingPathComponent("deploy/cibridge.yaml").path, path] {
            let result = try CLIRunner.run(["config", "check", "--config", file])
            #expect(result.status == 0, "\(file): \(result.stderr)")
        }
    }

    @Test("Prometheus alert rules parse and use metrics cibridge exports")
    func alerts() throws {
        let groups = dictionary(try load("deploy/prometheus/alerts.yaml").first)["groups"] as? [Any] ?? []
        var rules: [[String: Any]] = []
        for group in groups {
            for rule in dictionary(group)["rules"] as? [Any] ?? [] { rules.append(dictionary(rule)) }
        }
        #expect(rules.count >= 5)
        for rule in rules {
            let expression = rule["expr"] as? String ?? ""
            #expect(rule["alert"] is String)
            #expect(expression.contains("cibridge_"), "\(expression)")
        }
    }

    @Test("The Dockerfile's runtime packages exist in Debian bookworm (installed here as the -dev packages' dependencies)")
    func runtimePackages() throws {
        let dockerfile = try String(contentsOf: CLIRunner.repositoryRoot.appendingPathComponent("Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("FROM debian:bookworm-slim"))
        #expect(dockerfile.contains("USER 10001"))
        #expect(dockerfile.contains("HEALTHCHECK"))
        for package in ["librdkafka1", "libhiredis0.14"] {
            #expect(dockerfile.contains(package))
            let result = try ChildProcess.run("/usr/bin/dpkg-query", ["-W", "-f=${Package} ${Version}", package])
            #expect(result.status == 0 && result.stdout.hasPrefix(package), "\(package): \(result.stderr)")
        }
    }

    @Test("The systemd unit runs serve as its own user, hardened, with time to flush on stop")
    func systemd() throws {
        let unit = try String(contentsOf: CLIRunner.repositoryRoot.appendingPathComponent("deploy/systemd/cibridge.service"), encoding: .utf8)
        for line in ["User=cibridge", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/cibridge", "KillSignal=SIGTERM"] {
            #expect(unit.contains(line), "\(line)")
        }
        #expect(unit.contains("ExecStart=/usr/local/bin/cibridge serve --config"))
    }
}
