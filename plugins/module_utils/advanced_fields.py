# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fields a trail's advanced event selectors filter on, and the values
CloudTrail fixes for some of them: one table, as data.

Source: the CloudTrail API Reference, AdvancedFieldSelector (the version that
lists network activity events, ``errorCode`` and ``vpcEndpointId``), and for
``resources.type`` the table it points to, "Data events supported by AWS
CloudTrail" in the CloudTrail User Guide (175 types, read 2026-11-28).
botocore's service model (1.44) carries neither list.

Only the values the reference fixes are checked: ``eventCategory`` (for
trails: Management, Data, NetworkActivity; Insight, ConfigurationItem,
Evidence and ActivityAuditLog are for event data stores only), ``readOnly``
and ``resources.type``. Every other field takes any value, and CloudTrail's
own error speaks for it. Terraform's provider hard-coded more than this and
refused fields AWS had added; a new resource type is one line below.

No Ansible or AWS imports: the local AWS of the tests reads the same table.
"""

from __future__ import annotations

from typing import NamedTuple
from typing import Optional

REFERENCE = "CloudTrail API Reference, AdvancedFieldSelector; CloudTrail User Guide, data events table (read 2026-11-28)"

# Data event resource types a trail's advanced selectors can name (resources.type).
DATA_RESOURCE_TYPES: tuple[str, ...] = (
    "AWS::AIDevOps::AgentSpace",
    "AWS::AIDevOps::Association",
    "AWS::AIDevOps::OperatorAppTeam",
    "AWS::AIDevOps::PipelineMetadata",
    "AWS::AIDevOps::Service",
    "AWS::AIOps::InvestigationGroup",
    "AWS::AppConfig::Configuration",
    "AWS::AppSync::GraphQLApi",
    "AWS::B2BI::Transformer",
    "AWS::Backup::SearchJob",
    "AWS::Bedrock::AdvancedOptimizePromptJob",
    "AWS::Bedrock::AgentAlias",
    "AWS::Bedrock::AsyncInvoke",
    "AWS::Bedrock::AutomatedReasoningPolicy",
    "AWS::Bedrock::AutomatedReasoningPolicyVersion",
    "AWS::Bedrock::Blueprint",
    "AWS::Bedrock::DataAutomationInvocation",
    "AWS::Bedrock::DataAutomationProfile",
    "AWS::Bedrock::DataAutomationProject",
    "AWS::Bedrock::FlowAlias",
    "AWS::Bedrock::FlowExecution",
    "AWS::Bedrock::Guardrail",
    "AWS::Bedrock::InlineAgent",
    "AWS::Bedrock::KnowledgeBase",
    "AWS::Bedrock::Model",
    "AWS::Bedrock::PromptVersion",
    "AWS::Bedrock::Session",
    "AWS::Bedrock::Tool",
    "AWS::BedrockAgentCore::APIKeyCredentialProvider",
    "AWS::BedrockAgentCore::Browser",
    "AWS::BedrockAgentCore::BrowserCustom",
    "AWS::BedrockAgentCore::CodeInterpreter",
    "AWS::BedrockAgentCore::CodeInterpreterCustom",
    "AWS::BedrockAgentCore::Evaluator",
    "AWS::BedrockAgentCore::Gateway",
    "AWS::BedrockAgentCore::Memory",
    "AWS::BedrockAgentCore::OAuth2CredentialProvider",
    "AWS::BedrockAgentCore::Runtime",
    "AWS::BedrockAgentCore::RuntimeEndpoint",
    "AWS::BedrockAgentCore::TokenVault",
    "AWS::BedrockAgentCore::WorkloadIdentity",
    "AWS::BedrockAgentCore::WorkloadIdentityDirectory",
    "AWS::Cassandra::Stream",
    "AWS::Cassandra::Table",
    "AWS::CloudFront::KeyValueStore",
    "AWS::CloudOptimization::Profile",
    "AWS::CloudOptimization::Recommendation",
    "AWS::CloudTrail::Channel",
    "AWS::CloudWatch::Metric",
    "AWS::CodeGuruProfiler::ProfilingGroup",
    "AWS::CodeWhisperer::Customization",
    "AWS::CodeWhisperer::Profile",
    "AWS::Cognito::IdentityPool",
    "AWS::DataExchange::Asset",
    "AWS::Deadline::Fleet",
    "AWS::Deadline::Job",
    "AWS::Deadline::Queue",
    "AWS::Deadline::Worker",
    "AWS::DSQL::Cluster",
    "AWS::DynamoDB::Stream",
    "AWS::DynamoDB::Table",
    "AWS::EC2::InstanceConnectEndpoint",
    "AWS::EC2::Snapshot",
    "AWS::ECS::ContainerInstance",
    "AWS::EKS::Dashboard",
    "AWS::EMRWAL::Workspace",
    "AWS::FinSpace::Environment",
    "AWS::FSx::Volume",
    "AWS::GameLiftStreams::Application",
    "AWS::GameLiftStreams::StreamGroup",
    "AWS::GeoMaps::Provider",
    "AWS::GeoPlaces::Provider",
    "AWS::GeoRoutes::Provider",
    "AWS::Glue::Table",
    "AWS::GreengrassV2::ComponentVersion",
    "AWS::GreengrassV2::Deployment",
    "AWS::GuardDuty::Detector",
    "AWS::GuardDuty::MalwareScan",
    "AWS::IoT::Certificate",
    "AWS::IoT::Thing",
    "AWS::IoTSiteWise::Asset",
    "AWS::IoTSiteWise::TimeSeries",
    "AWS::IoTTwinMaker::Entity",
    "AWS::IoTTwinMaker::Workspace",
    "AWS::KendraRanking::ExecutionPlan",
    "AWS::Kinesis::Stream",
    "AWS::Kinesis::StreamConsumer",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::KinesisVideo::SignalingChannel",
    "AWS::KinesisVideo::Stream",
    "AWS::Lambda::Function",
    "AWS::MachineLearning::MlModel",
    "AWS::ManagedBlockchain::Network",
    "AWS::ManagedBlockchain::Node",
    "AWS::ManagedBlockchainQuery::QueryAPI",
    "AWS::MedicalImaging::Datastore",
    "AWS::MedicalImaging::Imageset",
    "AWS::MWAA::Environment",
    "AWS::NeptuneGraph::Graph",
    "AWS::NetworkFlowMonitor::Monitor",
    "AWS::NetworkFlowMonitor::Scope",
    "AWS::NovaAct::WorkflowDefinition",
    "AWS::NovaAct::WorkflowRun",
    "AWS::One::UKey",
    "AWS::One::User",
    "AWS::PaymentCryptography::Alias",
    "AWS::PaymentCryptography::Key",
    "AWS::PCAConnectorAD::Connector",
    "AWS::PCAConnectorSCEP::Connector",
    "AWS::Pinpoint::App",
    "AWS::QApps::QApp",
    "AWS::QApps::QAppSession",
    "AWS::QBusiness::Application",
    "AWS::QBusiness::DataSource",
    "AWS::QBusiness::Index",
    "AWS::QBusiness::Integration",
    "AWS::QBusiness::WebExperience",
    "AWS::QDeveloper::Integration",
    "AWS::Quicksight::ActionConnector",
    "AWS::QuickSight::Flow",
    "AWS::QuickSight::FlowSession",
    "AWS::RDS::DBCluster",
    "AWS::Redshift::Cluster",
    "AWS::RUM::AppMonitor",
    "AWS::S3::AccessPoint",
    "AWS::S3::Object",
    "AWS::S3Express::Object",
    "AWS::S3ObjectLambda::AccessPoint",
    "AWS::S3Outposts::Object",
    "AWS::S3Tables::Table",
    "AWS::S3Tables::TableBucket",
    "AWS::S3Vectors::Index",
    "AWS::S3Vectors::VectorBucket",
    "AWS::SageMaker::Endpoint",
    "AWS::SageMaker::ExperimentTrialComponent",
    "AWS::SageMaker::FeatureGroup",
    "AWS::SageMaker::MlflowTrackingServer",
    "AWS::SCN::Instance",
    "AWS::SDB::Domain",
    "AWS::ServiceDiscovery::Namespace",
    "AWS::ServiceDiscovery::Service",
    "AWS::SES::ConfigurationSet",
    "AWS::SES::EmailIdentity",
    "AWS::SES::Template",
    "AWS::Signer::SigningJob",
    "AWS::Signer::SigningProfile",
    "AWS::SitewiseAssistant::Conversation",
    "AWS::SMSVoice::Message",
    "AWS::SMSVoice::OriginationIdentity",
    "AWS::SNS::PlatformEndpoint",
    "AWS::SNS::Topic",
    "AWS::SocialMessaging::PhoneNumberId",
    "AWS::SocialMessaging::WabaId",
    "AWS::SQS::Queue",
    "AWS::SSM::ExecutionPreview",
    "AWS::SSM::ManagedNode",
    "AWS::SSMMessages::ControlChannel",
    "AWS::StepFunctions::Activity",
    "AWS::StepFunctions::StateMachine",
    "AWS::SupportAccess::Tenant",
    "AWS::SupportAccess::TrustingAccount",
    "AWS::SupportAccess::TrustingRole",
    "AWS::SWF::Domain",
    "AWS::ThinClient::Device",
    "AWS::ThinClient::Environment",
    "AWS::Timestream::Database",
    "AWS::Timestream::RegionalEndpoint",
    "AWS::Timestream::Table",
    "AWS::Transform::AgentInstance",
    "AWS::TransformCustom::Campaign",
    "AWS::TransformCustom::Conversation",
    "AWS::TransformCustom::KnowledgeItem",
    "AWS::TransformCustom::Package",
    "AWS::VerifiedPermissions::PolicyStore",
    "AWS::XRay::Trace",
)


class FieldRule(NamedTuple):
    """What CloudTrail accepts on one field: only Equals, and which values (None: any)."""

    equals_only: bool
    values: Optional[tuple[str, ...]]


ADVANCED_FIELD_RULES: dict[str, FieldRule] = {
    "eventCategory": FieldRule(True, ("Management", "Data", "NetworkActivity")),
    "readOnly": FieldRule(True, ("true", "false")),
    "resources.type": FieldRule(True, DATA_RESOURCE_TYPES),
    "eventSource": FieldRule(False, None),
    "eventName": FieldRule(False, None),
    "eventType": FieldRule(False, None),
    "resources.ARN": FieldRule(False, None),
    "errorCode": FieldRule(False, None),
    "sessionCredentialFromConsole": FieldRule(False, None),
    "userIdentity.arn": FieldRule(False, None),
    "vpcEndpointId": FieldRule(False, None),
}


def allowed_values_text(field: str) -> str:
    """The allowed values of ``field`` for a message (the long resource type list is summarized)."""
    values = ADVANCED_FIELD_RULES[field].values or ()
    if field == "resources.type":
        return (
            f"one of the {len(values)} data event resource types CloudTrail lists "
            "(AWS::S3::Object, AWS::Lambda::Function, AWS::DynamoDB::Table, ...; all in docs/event_selectors.md)"
        )
    return "one of " + ", ".join(values)


def unknown_values(field: str, values: list[str]) -> list[str]:
    """The values of an Equals condition on ``field`` that CloudTrail does not accept."""
    rule = ADVANCED_FIELD_RULES.get(field)
    if rule is None or rule.values is None:
        return []
    return [value for value in values if value not in rule.values]
