# FluffyMail's worker as an AWS Lambda function on an EventBridge schedule (the seed's deployment
# option 2, serverless): every minute one invocation runs `fluffymail serverless lambda`, a
# drain run that works the due jobs, fires the due cron ticks, rescues dead workers' jobs and
# prunes, then returns before the invocation's deadline. It costs nothing between runs; a job
# waits up to one schedule interval (see deploy/README.md, "Serverless runners").
#
# A module beside ../ecs.tf (use it instead of the ECS worker service, or with it: drain runs
# and long-running workers share the queue safely). It takes the same image (pushed to ECR: Lambda
# runs images from ECR only), the VPC subnets and security groups that reach PostgreSQL, and
# DATABASE_URL and FLUFFYMAIL_SECRET_KEY as sensitive values: Lambda cannot read Secrets Manager
# into its environment, so they are stored (encrypted) in the function's configuration and in
# the Terraform state; keep the state encrypted. Migrations still run once per release with
# `fluffymail db upgrade` (the ECS module's migrate task, or any one-off container).
# Checked here with `terraform fmt -check`, `terraform validate` and an HCL parse; never applied.

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

variable "image_uri" {
  description = "The FluffyMail image in ECR (built from the repository's Dockerfile), e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/fluffymail:1.4.0."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets with a route to PostgreSQL (and a NAT gateway for the mail servers and AI APIs the jobs call)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups for the function; they must reach PostgreSQL."
  type        = list(string)
}

variable "database_url" {
  description = "The PostgreSQL URL (DATABASE_URL)."
  type        = string
  sensitive   = true
}

variable "secret_key" {
  description = "FLUFFYMAIL_SECRET_KEY: the same Fernet key as the web app's."
  type        = string
  sensitive   = true
}

variable "schedule" {
  description = "How often a drain run starts: a job waits up to this long."
  type        = string
  default     = "rate(1 minute)"
}

variable "timeout" {
  description = "Seconds Lambda gives one invocation; a drain run ends 3 s before it."
  type        = number
  default     = 55
}

variable "drain_seconds" {
  description = "FLUFFYMAIL_DRAIN_SECONDS: one run's budget, stop included (capped by the timeout)."
  type        = number
  default     = 50
}

variable "shutdown_grace" {
  description = "FLUFFYMAIL_SHUTDOWN_GRACE: seconds running jobs get once the budget stops the claims (at most a quarter of the budget is used)."
  type        = number
  default     = 10
}

variable "max_concurrent_runs" {
  description = "Reserved concurrency: at most this many drain runs at once (each opens its own database connections)."
  type        = number
  default     = 2
}

variable "memory_mb" {
  description = "Memory (and so CPU) of the function."
  type        = number
  default     = 1024
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's logs."
  type        = number
  default     = 30
}

# ---- the function -----------------------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "drain" {
  name               = "${var.name}-drain"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

# Logs, and the network interfaces a function in a VPC needs.
resource "aws_iam_role_policy_attachment" "vpc_access" {
  role       = aws_iam_role.drain.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_cloudwatch_log_group" "drain" {
  name              = "/aws/lambda/${var.name}-drain"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "drain" {
  function_name                  = "${var.name}-drain"
  role                           = aws_iam_role.drain.arn
  package_type                   = "Image"
  image_uri                      = var.image_uri
  timeout                        = var.timeout
  memory_size                    = var.memory_mb
  reserved_concurrent_executions = var.max_concurrent_runs

  image_config {
    # The Runtime API loop is built in: no runtime interface client in the image.
    command = ["fluffymail", "serverless", "lambda"]
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  environment {
    variables = {
      DATABASE_URL                = var.database_url
      FLUFFYMAIL_SECRET_KEY       = var.secret_key
      FLUFFYMAIL_ENVIRONMENT      = "production"
      FLUFFYMAIL_MIGRATE_ON_START = "false"
      FLUFFYMAIL_DRAIN_SECONDS    = tostring(var.drain_seconds)
      FLUFFYMAIL_SHUTDOWN_GRACE   = tostring(var.shutdown_grace)
      FLUFFYMAIL_LOG_FORMAT       = "json"
      FLUFFYMAIL_DATA_DIR         = "/tmp/fluffymail" # the only writable path in Lambda
    }
  }

  lifecycle {
    precondition {
      condition     = var.drain_seconds + 3 <= var.timeout
      error_message = "drain_seconds plus the 3 s margin must fit in the Lambda timeout."
    }
  }

  depends_on = [aws_iam_role_policy_attachment.vpc_access, aws_cloudwatch_log_group.drain]
}

# A failed or timed-out run is not retried: the next scheduled one picks up where it stopped.
resource "aws_lambda_function_event_invoke_config" "drain" {
  function_name          = aws_lambda_function.drain.function_name
  maximum_retry_attempts = 0
}

# ---- the trigger ------------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "drain" {
  name                = "${var.name}-drain"
  description         = "Start a FluffyMail drain run."
  schedule_expression = var.schedule
}

resource "aws_cloudwatch_event_target" "drain" {
  rule  = aws_cloudwatch_event_rule.drain.name
  arn   = aws_lambda_function.drain.arn
  input = jsonencode({ max_seconds = var.drain_seconds })
}

resource "aws_lambda_permission" "events" {
  statement_id  = "AllowEventBridge"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.drain.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.drain.arn
}

output "function_name" {
  description = "Invoke it by hand: aws lambda invoke --function-name <this> out.json"
  value       = aws_lambda_function.drain.function_name
}
