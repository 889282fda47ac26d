package com.veltrix.config.grpc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.veltrix.config.catalog.schedule.Schedule;
import com.veltrix.config.catalog.schedule.SchedulePage;
import com.veltrix.config.catalog.write.WriteCommand;
import com.veltrix.config.grpc.v1.ConfigWrite;
import com.veltrix.config.grpc.v1.ListSchedulesResponse;
import com.veltrix.config.grpc.v1.ScheduleStatus;
import com.veltrix.config.grpc.v1.WriteOp;
import java.util.Optional;

/** Schedules to and from their messages ({@code ListSchedules}). */
final class ScheduleMessages {

  private static final ObjectMapper JSON = new ObjectMapper();

  private ScheduleMessages() {}

  static Optional<Schedule.Status> status(ScheduleStatus status) {
    return switch (status) {
      case SCHEDULE_STATUS_UNSPECIFIED -> Optional.empty();
      case SCHEDULE_STATUS_PENDING -> Optional.of(Schedule.Status.PENDING);
      case SCHEDULE_STATUS_APPLIED -> Optional.of(Schedule.Status.APPLIED);
      case SCHEDULE_STATUS_FAILED -> Optional.of(Schedule.Status.FAILED);
      case SCHEDULE_STATUS_CANCELLED -> Optional.of(Schedule.Status.CANCELLED);
      case UNRECOGNIZED -> throw GrpcMapper.invalid("status", "is not a ScheduleStatus");
    };
  }

  static ScheduleStatus status(Schedule.Status status) {
    return switch (status) {
      case PENDING -> ScheduleStatus.SCHEDULE_STATUS_PENDING;
      case APPLIED -> ScheduleStatus.SCHEDULE_STATUS_APPLIED;
      case FAILED -> ScheduleStatus.SCHEDULE_STATUS_FAILED;
      case CANCELLED -> ScheduleStatus.SCHEDULE_STATUS_CANCELLED;
    };
  }

  static ListSchedulesResponse page(SchedulePage page) {
    ListSchedulesResponse.Builder response = ListSchedulesResponse.newBuilder();
    page.items().forEach(s -> response.addSchedules(schedule(s)));
    page.nextPageToken().ifPresent(response::setNextPageToken);
    return response.build();
  }

  static com.veltrix.config.grpc.v1.Schedule schedule(Schedule s) {
    com.veltrix.config.grpc.v1.Schedule.Builder message =
        com.veltrix.config.grpc.v1.Schedule.newBuilder()
            .setId(s.id())
            .setApplyAt(GrpcMapper.timestamp(s.applyAt()))
            .setStatus(status(s.status()))
            .setDescription(s.description())
            .setCreatedBy(s.createdBy())
            .setCreatedAt(GrpcMapper.timestamp(s.createdAt()));
    s.writes().forEach(w -> message.addWrites(write(w)));
    s.revision().ifPresent(message::setRevision);
    s.problem().ifPresent(p -> message.setProblemJson(json(p)));
    return message.build();
  }

  private static ConfigWrite write(WriteCommand w) {
    ConfigWrite.Builder message =
        ConfigWrite.newBuilder().setKind(GrpcMapper.kind(w.key().kind())).setId(w.key().id());
    w.precondition().ifMatch().ifPresent(message::setIfMatchVersion);
    if (w instanceof WriteCommand.Upsert u) {
      message.setOp(WriteOp.WRITE_OP_UPSERT).setPayloadJson(u.payload().toString());
    } else {
      message.setOp(WriteOp.WRITE_OP_RETIRE);
    }
    return message.build();
  }

  private static String json(Schedule.Problem problem) {
    try {
      return JSON.writeValueAsString(problem);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
