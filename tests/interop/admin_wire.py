"""admin_wire: raw admin requests for the test_admin_*.py interop tests.

The clients installed here lack some admin APIs (no client has IncrementalAlterConfigs before
librdkafka 2.2, kafka-python 2.0.2 has no DeleteRecords) and refuse some bad inputs before
sending them (num_partitions 0). These requests are declared with kafka-python's own protocol
types (kafka.protocol.types), an encoder independent of Cairn's, and sent with
kafka_wire.Connection. Standard library + kafka-python (Debian's python3-kafka).
"""
import kafka_wire
from kafka.protocol.admin import (AlterConfigsRequest, CreatePartitionsRequest,
                                  CreateTopicsRequest, DeleteTopicsRequest,
                                  DescribeConfigsRequest)  # noqa: F401 (v0 only)
from kafka.protocol.api import Request, Response
from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Int64, Schema, String

# Kafka error codes.
NONE = 0
OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
INVALID_REPLICA_ASSIGNMENT = 39
INVALID_CONFIG = 40
INVALID_REQUEST = 42
POLICY_VIOLATION = 44
TOPIC_DELETION_DISABLED = 73

# Resource types and IncrementalAlterConfigs operations.
TOPIC = 2
BROKER = 4
BROKER_LOGGER = 8
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3

# Config sources (DescribeConfigs v1+).
DYNAMIC_TOPIC_CONFIG = 1
DYNAMIC_BROKER_CONFIG = 2
DYNAMIC_DEFAULT_BROKER_CONFIG = 3
STATIC_BROKER_CONFIG = 4
DEFAULT_CONFIG = 5


class DeleteRecordsResponse_v0(Response):
    API_KEY = 21
    API_VERSION = 0
    SCHEMA = Schema(
        ('throttle_time_ms', Int32),
        ('topics', Array(
            ('name', String('utf-8')),
            ('partitions', Array(
                ('partition_index', Int32),
                ('low_watermark', Int64),
                ('error_code', Int16))))))


class DeleteRecordsRequest_v0(Request):
    API_KEY = 21
    API_VERSION = 0
    RESPONSE_TYPE = DeleteRecordsResponse_v0
    SCHEMA = Schema(
        ('topics', Array(
            ('name', String('utf-8')),
            ('partitions', Array(
                ('partition_index', Int32),
                ('offset', Int64))))),
        ('timeout_ms', Int32))


class IncrementalAlterConfigsResponse_v0(Response):
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(
        ('throttle_time_ms', Int32),
        ('responses', Array(
            ('error_code', Int16),
            ('error_message', String('utf-8')),
            ('resource_type', Int8),
            ('resource_name', String('utf-8')))))


class IncrementalAlterConfigsRequest_v0(Request):
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(
        ('resources', Array(
            ('resource_type', Int8),
            ('resource_name', String('utf-8')),
            ('configs', Array(
                ('name', String('utf-8')),
                ('config_operation', Int8),
                ('value', String('utf-8')))))),
        ('validate_only', Boolean))


class DescribeConfigsResponse_v1(Response):
    """Kafka's v1 layout (kafka-python 2.0.2 declares config_source as a Boolean `is_default`,
    which loses the source)."""
    API_KEY = 32
    API_VERSION = 1
    SCHEMA = Schema(
        ('throttle_time_ms', Int32),
        ('resources', Array(
            ('error_code', Int16),
            ('error_message', String('utf-8')),
            ('resource_type', Int8),
            ('resource_name', String('utf-8')),
            ('config_entries', Array(
                ('name', String('utf-8')),
                ('value', String('utf-8')),
                ('read_only', Boolean),
                ('config_source', Int8),
                ('is_sensitive', Boolean),
                ('synonyms', Array(
                    ('name', String('utf-8')),
                    ('value', String('utf-8')),
                    ('source', Int8))))))))


class DescribeConfigsRequest_v1(Request):
    API_KEY = 32
    API_VERSION = 1
    RESPONSE_TYPE = DescribeConfigsResponse_v1
    SCHEMA = Schema(
        ('resources', Array(
            ('resource_type', Int8),
            ('resource_name', String('utf-8')),
            ('config_names', Array(String('utf-8'))))),
        ('include_synonyms', Boolean))


class Admin:
    """One connection; each method returns the decoded response (or the part tests need)."""

    def __init__(self, bootstrap):
        self.connection = kafka_wire.Connection(bootstrap)
        self.correlation_id = 0

    def close(self):
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def request(self, request):
        self.correlation_id += 1
        return self.connection.request(request, self.correlation_id)

    def create_topics(self, topics, validate_only=False, version=3):
        """topics: [(name, partitions, replication, assignments, {config: value})]; returns
        [(name, error_code, error_message)]."""
        entries = [(name, partitions, replication, list(assignments or []),
                    list((configs or {}).items()))
                   for name, partitions, replication, assignments, configs in topics]
        if version == 0:
            request = CreateTopicsRequest[0](create_topic_requests=entries, timeout=30000)
        else:
            request = CreateTopicsRequest[version](create_topic_requests=entries,
                                                   timeout=30000, validate_only=validate_only)
        errors = self.request(request).topic_errors
        if version == 0:
            return [(name, code, None) for name, code in errors]
        return [tuple(error) for error in errors]

    def create_topic(self, name, partitions=1, replication=1, configs=None, **kwargs):
        """The (error_code, error_message) of creating one topic."""
        result = self.create_topics([(name, partitions, replication, [], configs)], **kwargs)
        return result[0][1], result[0][2]

    def delete_topics(self, names, version=1):
        response = self.request(DeleteTopicsRequest[version](topics=list(names), timeout=30000))
        return [tuple(error) for error in response.topic_error_codes]

    def create_partitions(self, topics, validate_only=False):
        """topics: [(name, count, assignments or None)]; returns [(name, code, message)]."""
        entries = [(name, (count, assignments)) for name, count, assignments in topics]
        request = CreatePartitionsRequest[1](topic_partitions=entries, timeout=30000,
                                             validate_only=validate_only)
        return [tuple(result) for result in self.request(request).topic_errors]

    def describe_configs(self, resources, include_synonyms=False, version=1):
        """resources: [(type, name, [keys] or None)]; returns the raw resources list. v0:
        entries (name, value, read_only, is_default, is_sensitive); v1: (name, value,
        read_only, config_source, is_sensitive, synonyms)."""
        if version == 0:
            request = DescribeConfigsRequest[0](resources=list(resources))
        else:
            request = DescribeConfigsRequest_v1(resources=list(resources),
                                                include_synonyms=include_synonyms)
        return self.request(request).resources

    def topic_configs(self, topic, include_synonyms=False):
        """{name: (value, read_only, config_source, is_sensitive, synonyms)} of a topic (v1)."""
        resources = self.describe_configs([(TOPIC, topic, None)], include_synonyms, version=1)
        error_code, error_message, _, _, entries = resources[0]
        if error_code != NONE:
            raise AssertionError("DescribeConfigs %s: %d %s" % (topic, error_code, error_message))
        return {entry[0]: tuple(entry[1:]) for entry in entries}

    def alter_configs(self, resources, validate_only=False):
        """resources: [(type, name, {config: value})]; returns [(code, message, type, name)]."""
        entries = [(kind, name, list(configs.items())) for kind, name, configs in resources]
        request = AlterConfigsRequest[1](resources=entries, validate_only=validate_only)
        return [tuple(r) for r in self.request(request).resources]

    def incremental_alter_configs(self, resources, validate_only=False):
        """resources: [(type, name, [(config, op, value)])]; returns [(code, message, type,
        name)]."""
        request = IncrementalAlterConfigsRequest_v0(resources=list(resources),
                                                    validate_only=validate_only)
        return [tuple(r) for r in self.request(request).responses]

    def delete_records(self, topic, partition_offsets):
        """partition_offsets: {partition: offset}; returns {partition: (low_watermark, code)}."""
        request = DeleteRecordsRequest_v0(
            topics=[(topic, list(partition_offsets.items()))], timeout_ms=30000)
        response = self.request(request)
        return {p: (low, code) for p, low, code in response.topics[0][1]}

    def partition_counts(self, topics):
        """{topic: partition count or -error code} via Metadata v4 (never auto-creates)."""
        response = self.request(MetadataRequest[4](topics=list(topics),
                                                   allow_auto_topic_creation=False))
        out = {}
        for error_code, name, _internal, partitions in response.topics:
            out[name] = len(partitions) if error_code == NONE else -error_code
        return out

    def api_versions(self):
        return kafka_wire.check_api_versions("%s:%d" % self.connection.sock.getpeername())
