# FluffyMail on AWS ECS/Fargate (the seed's deployment option 2): one image, a web service
# and a worker service, plus a one-off task definition for migrations.
#
# A module: it takes an existing cluster, subnets, security groups and (optionally) a load
# balancer target group, and the ARNs of two Secrets Manager secrets holding DATABASE_URL and
# FLUFFYMAIL_SECRET_KEY as plain strings. Per release, with var.image set to the new tag:
#   1. terraform apply -target=aws_ecs_task_definition.migrate   (the new image's migrations)
#   2. run the `migrate_command` output once and wait for exit code 0
#   3. terraform apply   (ECS rolls web and worker; old tasks get SIGTERM, then stopTimeout
#      seconds to drain before SIGKILL)
# Checked here with `terraform fmt -check` and an HCL parse only; never applied.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

# ---- inputs -----------------------------------------------------------------------------------

variable "name" {
  description = "Prefix for every resource name."
  type        = string
  default     = "fluffymail"
}

variable "image" {
  description = "The FluffyMail image (built from the repository's Dockerfile), e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/fluffymail:1.4.0."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster the services run in."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets for the tasks (private subnets with a NAT gateway or VPC endpoints)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups for the tasks; they must reach PostgreSQL, and the load balancer must reach port 8000."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give tasks a public IP (only for public subnets without NAT)."
  type        = bool
  default     = false
}

variable "database_url_secret_arn" {
  description = "ARN of the Secrets Manager secret whose value is the PostgreSQL URL (DATABASE_URL)."
  type        = string
}

variable "secret_key_secret_arn" {
  description = "ARN of the Secrets Manager secret whose value is FLUFFYMAIL_SECRET_KEY (a Fernet key)."
  type        = string
}

variable "allowed_hosts" {
  description = "Host names the web app answers, comma-separated (e.g. crm.example.com): production refuses other Host headers and will not start without them."
  type        = string
}

variable "web_target_group_arn" {
  description = "Load balancer target group for the web service (health check path /healthz, port 8000); null for no load balancer."
  type        = string
  default     = null
}

variable "web_desired_count" {
  description = "Number of web tasks."
  type        = number
  default     = 1
}

variable "worker_desired_count" {
  description = "Number of worker tasks. Scale as needed: workers share the queue through PostgreSQL."
  type        = number
  default     = 2
}

variable "worker_queues" {
  description = "FLUFFYMAIL_QUEUES for the workers (NAME:CONCURRENCY,...); null keeps the application default."
  type        = string
  default     = null
}

variable "shutdown_grace" {
  description = "FLUFFYMAIL_SHUTDOWN_GRACE: seconds running jobs get to finish after SIGTERM."
  type        = number
  default     = 20
}

variable "stop_timeout" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL (Fargate allows at most 120); must exceed shutdown_grace."
  type        = number
  default     = 30

  validation {
    condition     = var.stop_timeout >= 2 && var.stop_timeout <= 120
    error_message = "Fargate's stopTimeout is between 2 and 120 seconds."
  }
}

variable "cpu" {
  description = "Fargate CPU units per task."
  type        = number
  default     = 512
}

variable "memory" {
  description = "Fargate memory (MiB) per task."
  type        = number
  default     = 1024
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention."
  type        = number
  default     = 30
}

# ---- shared pieces ----------------------------------------------------------------------------

data "aws_region" "current" {}

locals {
  web_port     = 8000
  metrics_port = 9100

  environment = [
    for name, value in {
      FLUFFYMAIL_ENVIRONMENT      = "production" # needs FLUFFYMAIL_SECRET_KEY; Secure cookies
      FLUFFYMAIL_MIGRATE_ON_START = "false"      # the migrate task runs them once per release
      FLUFFYMAIL_SHUTDOWN_GRACE   = tostring(var.shutdown_grace)
      FLUFFYMAIL_LOG_FORMAT       = "json"
      # Trust X-Forwarded-Proto/For from any peer: load balancer nodes have no fixed addresses,
      # and tasks in private subnets are reached only through the load balancer (keep the
      # tasks' security groups open to it alone).
      FLUFFYMAIL_FORWARDED_ALLOW_IPS = "*"
      FLUFFYMAIL_ALLOWED_HOSTS       = var.allowed_hosts
    } : { name = name, value = value }
  ]

  worker_environment = concat(
    local.environment,
    [{ name = "FLUFFYMAIL_METRICS_PORT", value = tostring(local.metrics_port) }],
    var.worker_queues == null ? [] : [{ name = "FLUFFYMAIL_QUEUES", value = var.worker_queues }],
  )

  secrets = [
    { name = "DATABASE_URL", valueFrom = var.database_url_secret_arn },
    { name = "FLUFFYMAIL_SECRET_KEY", valueFrom = var.secret_key_secret_arn },
  ]

  log_configuration = {
    logDriver = "awslogs"
    options = {
      awslogs-group         = aws_cloudwatch_log_group.app.name
      awslogs-region        = data.aws_region.current.name
      awslogs-stream-prefix = var.name
    }
  }

  # Container health checks: the image's stdlib probe against each process's /healthz.
  health_check = {
    interval    = 15
    timeout     = 5
    retries     = 3
    startPeriod = 30
  }
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

# The execution role pulls the image, writes logs and reads the two secrets at task start.
data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "read_secrets" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.database_url_secret_arn, var.secret_key_secret_arn]
  }
}

resource "aws_iam_role_policy" "read_secrets" {
  name   = "${var.name}-read-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.read_secrets.json
}

# ---- task definitions -------------------------------------------------------------------------

resource "aws_ecs_task_definition" "web" {
  family                   = "${var.name}-web"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn

  container_definitions = jsonencode([{
    name         = "web"
    image        = var.image
    essential    = true
    command      = ["fluffymail", "web", "--host", "0.0.0.0", "--port", tostring(local.web_port)]
    portMappings = [{ containerPort = local.web_port, protocol = "tcp" }]
    environment  = local.environment
    secrets      = local.secrets
    stopTimeout  = var.stop_timeout
    healthCheck = merge(local.health_check, {
      command = ["CMD", "python", "/app/healthcheck.py", "http://127.0.0.1:${local.web_port}/healthz"]
    })
    logConfiguration = local.log_configuration
  }])

  lifecycle {
    precondition {
      condition     = var.stop_timeout > var.shutdown_grace
      error_message = "stop_timeout must exceed shutdown_grace, or ECS kills tasks before they drain."
    }
  }
}

resource "aws_ecs_task_definition" "worker" {
  family                   = "${var.name}-worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn

  container_definitions = jsonencode([{
    name         = "worker"
    image        = var.image
    essential    = true
    command      = ["fluffymail", "worker"]
    portMappings = [{ containerPort = local.metrics_port, protocol = "tcp" }]
    environment  = local.worker_environment
    secrets      = local.secrets
    stopTimeout  = var.stop_timeout
    healthCheck = merge(local.health_check, {
      command = ["CMD", "python", "/app/healthcheck.py", "http://127.0.0.1:${local.metrics_port}/healthz"]
    })
    logConfiguration = local.log_configuration
  }])

  lifecycle {
    precondition {
      condition     = var.stop_timeout > var.shutdown_grace
      error_message = "stop_timeout must exceed shutdown_grace, or ECS kills workers before they drain."
    }
  }
}

# Not a service: run once per release (see the migrate_command output). Safe to run twice.
resource "aws_ecs_task_definition" "migrate" {
  family                   = "${var.name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn

  container_definitions = jsonencode([{
    name             = "migrate"
    image            = var.image
    essential        = true
    command          = ["fluffymail", "db", "upgrade"]
    environment      = local.environment
    secrets          = local.secrets
    logConfiguration = local.log_configuration
  }])
}

# ---- services ---------------------------------------------------------------------------------

resource "aws_ecs_service" "web" {
  name            = "${var.name}-web"
  cluster         = var.cluster_arn
  task_definition = aws_ecs_task_definition.web.arn
  desired_count   = var.web_desired_count
  launch_type     = "FARGATE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = var.assign_public_ip
  }

  dynamic "load_balancer" {
    for_each = var.web_target_group_arn == null ? [] : [var.web_target_group_arn]
    content {
      target_group_arn = load_balancer.value
      container_name   = "web"
      container_port   = local.web_port
    }
  }
  health_check_grace_period_seconds = var.web_target_group_arn == null ? null : 60

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
}

resource "aws_ecs_service" "worker" {
  name            = "${var.name}-worker"
  cluster         = var.cluster_arn
  task_definition = aws_ecs_task_definition.worker.arn
  desired_count   = var.worker_desired_count # Scale as needed (default 2)
  launch_type     = "FARGATE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = var.assign_public_ip
  }

  # Start new workers before stopping old ones; the old ones drain their running jobs.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
}

# ---- outputs ----------------------------------------------------------------------------------

output "web_service_name" {
  value = aws_ecs_service.web.name
}

output "worker_service_name" {
  value = aws_ecs_service.worker.name
}

output "migrate_task_definition_arn" {
  value = aws_ecs_task_definition.migrate.arn
}

output "migrate_command" {
  description = "Runs the migrations once; run it for each release before terraform apply rolls the services."
  value = join(" ", [
    "aws ecs run-task --launch-type FARGATE",
    "--cluster ${var.cluster_arn}",
    "--task-definition ${aws_ecs_task_definition.migrate.arn}",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", var.subnet_ids)}],securityGroups=[${join(",", var.security_group_ids)}],assignPublicIp=${var.assign_public_ip ? "ENABLED" : "DISABLED"}}'",
  ])
}
